from django.urls import path

from accounts import views

urlpatterns = [
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/profile/delete/", views.account_delete, name="account-delete"),
    path("manage/roles/", views.role_management, name="role-management"),
    path("accounts/profile/tokens/", views.api_tokens, name="api-tokens"),
]
