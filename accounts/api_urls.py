"""The accounts routes of API v1, mounted under /api/v1/ by config/api_v1.py."""

from django.urls import path

from accounts import api

urlpatterns = [
    path("tokens/", api.TokenListApi.as_view(), name="api-token-list"),
    path("tokens/<int:token_id>", api.TokenDetailApi.as_view(), name="api-token-detail"),
    path("users/", api.UserListApi.as_view(), name="api-user-list"),
    path("users/<int:user_id>", api.UserDetailApi.as_view(), name="api-user-detail"),
    path("users/<int:user_id>/role", api.UserRoleApi.as_view(), name="api-user-role"),
]
