"""JSON API for administrators: list users and change their role."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import user_list_with_roles
from accounts.services import user_change_role


class CanManageRoles(BasePermission):
    message = "You do not have permission to manage roles."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.has_perm("accounts.manage_roles"))


class UserOutputSerializer(serializers.ModelSerializer[User]):
    role = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "display_name", "role", "is_active", "date_joined"]
        read_only_fields = fields


class UserListApi(APIView):
    permission_classes = [IsAuthenticated, CanManageRoles]

    @extend_schema(responses=UserOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        users = user_list_with_roles(search=request.query_params.get("q", ""))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(users, request, view=self)
        return paginator.get_paginated_response(UserOutputSerializer(page, many=True).data)


class UserRoleApi(APIView):
    permission_classes = [IsAuthenticated, CanManageRoles]

    class InputSerializer(serializers.Serializer[Any]):
        role = serializers.CharField(max_length=20)

    @extend_schema(request=InputSerializer, responses=UserOutputSerializer)
    def post(self, request: Request, user_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = User.objects.filter(pk=user_id).first()
        if user is None:
            raise exceptions.NotFound(f"No user with id {user_id}.")
        assert isinstance(request.user, User)
        try:
            user_change_role(actor=request.user, user=user, role=data.validated_data["role"])
        except DjangoValidationError as exc:
            raise exceptions.ValidationError({"detail": " ".join(exc.messages)}) from exc
        user = User.objects.prefetch_related("groups").get(pk=user.pk)
        return Response(UserOutputSerializer(user).data)
