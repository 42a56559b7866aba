"""Signing in, out, and back in: Django's views, with the project's password reset and one-time sign-in links."""

from django.contrib.auth import views as auth_views
from django.urls import path

from .views import accounts

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/link/", accounts.sign_in_link_request, name="sign_in_link_request"),
    path("login/link/sent/", accounts.sign_in_link_sent, name="sign_in_link_sent"),
    path("login/link/<uidb64>/<token>/", accounts.sign_in_link, name="sign_in_link"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password_reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path("password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("reset/<uidb64>/<token>/", accounts.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
