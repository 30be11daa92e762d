"""API v1 for accounts: your personal API tokens, and (administrators) users and roles."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.filters import OrderingFilter
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import TokenScopePermission
from accounts.models import ApiToken, TokenScope, User
from accounts.roles import Role
from accounts.selectors import user_list_with_roles
from accounts.services import user_change_role
from accounts.tokens import MAX_TOKEN_DAYS, api_token_create, api_token_revoke, token_list


def _account(request: Request) -> User:
    if not isinstance(request.user, User):
        raise exceptions.NotAuthenticated()
    return request.user


def _refusal(exc: DjangoValidationError) -> exceptions.ValidationError:
    """A service's field errors as DRF's, so that problem details name each field."""
    if hasattr(exc, "error_dict"):
        detail = " ".join(m for messages in exc.message_dict.values() for m in messages)
        return exceptions.ValidationError({"detail": detail, **exc.message_dict})
    return exceptions.ValidationError({"detail": " ".join(exc.messages)})


class CanManageRoles(BasePermission):
    message = "You do not have permission to manage roles."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.has_perm("accounts.manage_roles"))


class AccountApiView(GenericAPIView[Any]):
    permission_classes = [IsAuthenticated, TokenScopePermission]
    filter_backends: list[Any] = []


# --- personal API tokens ----------------------------------------------------------------------
class TokenOut(serializers.ModelSerializer[ApiToken]):
    active = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "scope",
            "prefix",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "active",
        ]
        read_only_fields = fields

    def get_active(self, token: ApiToken) -> bool:
        return token.revoked_at is None and token.expires_at > timezone.now()


class NewTokenOut(TokenOut):
    token = serializers.CharField(
        help_text="The token itself. Shown this once: store it now (it is kept only hashed)."
    )

    class Meta(TokenOut.Meta):
        fields = [*TokenOut.Meta.fields, "token"]
        read_only_fields = fields


class TokenInput(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100)
    scope = serializers.ChoiceField(choices=TokenScope.choices)
    expires_in_days = serializers.IntegerField(min_value=1, max_value=MAX_TOKEN_DAYS)


class TokenListApi(AccountApiView):
    """Your personal API tokens (list, create). Writes with a token need scope learner or
    wider, and a token never creates a wider or longer-lived one than itself."""

    write_scope = TokenScope.LEARNER
    serializer_class = TokenOut
    filter_backends = [OrderingFilter]
    ordering_fields = ["created_at", "expires_at", "last_used_at", "name"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[ApiToken]:
        if getattr(self, "swagger_fake_view", False):  # the schema is being generated
            return ApiToken.objects.none()
        return token_list(_account(self.request))

    @extend_schema(operation_id="token_list", tags=["tokens"], responses={200: TokenOut(many=True)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(TokenOut(page, many=True).data)

    @extend_schema(
        operation_id="token_create",
        tags=["tokens"],
        request=TokenInput,
        responses={201: NewTokenOut},
    )
    def post(self, request: Request) -> Response:
        data = TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            new = api_token_create(
                user=_account(request),
                name=data.validated_data["name"],
                scope=data.validated_data["scope"],
                days=data.validated_data["expires_in_days"],
                within=request.auth if isinstance(request.auth, ApiToken) else None,
            )
        except DjangoValidationError as exc:
            raise _refusal(exc) from exc
        new.token.token = new.secret  # type: ignore[attr-defined]
        return Response(NewTokenOut(new.token).data, status=status.HTTP_201_CREATED)


class TokenDetailApi(AccountApiView):
    write_scope = TokenScope.LEARNER

    def _token(self, request: Request, token_id: int) -> ApiToken:
        token = token_list(_account(request)).filter(pk=token_id).first()
        if token is None:
            raise exceptions.NotFound("No such token.")
        return token

    @extend_schema(operation_id="token_retrieve", tags=["tokens"], responses={200: TokenOut})
    def get(self, request: Request, token_id: int) -> Response:
        return Response(TokenOut(self._token(request, token_id)).data)

    @extend_schema(
        operation_id="token_revoke",
        tags=["tokens"],
        responses={204: OpenApiResponse(description="Revoked (or already was).")},
    )
    def delete(self, request: Request, token_id: int) -> Response:
        try:
            api_token_revoke(user=_account(request), token_id=token_id)
        except ApiToken.DoesNotExist:
            raise exceptions.NotFound("No such token.") from None
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- users and roles (administrators) -----------------------------------------------------------
class UserOutputSerializer(serializers.ModelSerializer[User]):
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "display_name", "role", "is_active", "date_joined"]
        read_only_fields = fields


class UserFilter(filters.FilterSet):  # type: ignore[misc]
    q = filters.CharFilter(field_name="email", lookup_expr="icontains", help_text="Email contains.")
    role = filters.ChoiceFilter(choices=Role.choices, field_name="groups__name")
    is_active = filters.BooleanFilter()

    class Meta:
        model = User
        fields = ["q", "role", "is_active"]


class UserListApi(AccountApiView):
    """Every account with its role (administrators)."""

    permission_classes = [IsAuthenticated, TokenScopePermission, CanManageRoles]
    serializer_class = UserOutputSerializer
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = UserFilter
    ordering_fields = ["email", "date_joined", "id"]
    ordering = ["email"]

    def get_queryset(self) -> QuerySet[User]:
        return user_list_with_roles()

    @extend_schema(
        operation_id="user_list", tags=["admin"], responses={200: UserOutputSerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(UserOutputSerializer(page, many=True).data)


class UserDetailApi(AccountApiView):
    permission_classes = [IsAuthenticated, TokenScopePermission, CanManageRoles]

    @extend_schema(operation_id="user_retrieve", tags=["admin"], responses=UserOutputSerializer)
    def get(self, request: Request, user_id: int) -> Response:
        user = user_list_with_roles().filter(pk=user_id).first()
        if user is None:
            raise exceptions.NotFound(f"No user with id {user_id}.")
        return Response(UserOutputSerializer(user).data)


class RoleInput(serializers.Serializer[Any]):
    # Any text: the service, the one place that knows the roles, names an unknown one.
    role = serializers.CharField(max_length=20, help_text=f"One of {', '.join(Role.values)}.")


class UserRoleApi(AccountApiView):
    """Change a user's role (administrators; audited). An instructor-scope token may do it
    for an administrator's account."""

    permission_classes = [IsAuthenticated, TokenScopePermission, CanManageRoles]

    @extend_schema(
        operation_id="user_set_role",
        tags=["admin"],
        request=RoleInput,
        responses=UserOutputSerializer,
    )
    def post(self, request: Request, user_id: int) -> Response:
        data = RoleInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = User.objects.filter(pk=user_id).first()
        if user is None:
            raise exceptions.NotFound(f"No user with id {user_id}.")
        try:
            user_change_role(actor=_account(request), user=user, role=data.validated_data["role"])
        except DjangoValidationError as exc:
            message = " ".join(exc.messages)
            raise exceptions.ValidationError({"detail": message, "role": exc.messages}) from exc
        user = User.objects.prefetch_related("groups").get(pk=user.pk)
        return Response(UserOutputSerializer(user).data)
