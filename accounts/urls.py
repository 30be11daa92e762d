from django.urls import path

from accounts import api, views

urlpatterns = [
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/profile/delete/", views.account_delete, name="account-delete"),
    path("manage/roles/", views.role_management, name="role-management"),
    path("api/users/", api.UserListApi.as_view(), name="api-user-list"),
    path("api/users/<int:user_id>/role", api.UserRoleApi.as_view(), name="api-user-role"),
]
