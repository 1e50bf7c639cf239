from django.urls import path

from members import household_views, views

app_name = "members"
urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("signup/<slug:slug>/", views.signup, name="signup_program"),
    path("signin/", views.signin, name="signin"),
    path("signin/sent/", views.signin_sent, name="signin_sent"),
    path("signin/link/<str:token>/", views.signin_link, name="signin_link"),
    path("signout/", views.signout, name="signout"),
    path("language/", views.language, name="language"),
    path("card/apple.pkpass", views.card_apple_pass, name="card_apple"),
    path("card/google/", views.card_google_pass, name="card_google"),
    path("card/logo.png", views.card_logo, name="card_logo"),
    path("history/", views.history, name="history"),
    path("history.csv", views.history_csv, name="history_csv"),
    path("referrals/", views.referrals, name="referrals"),
    path("household/", household_views.household, name="household"),
    path("household/create/", household_views.household_create, name="household_create"),
    path("household/invite/", household_views.household_invite, name="household_invite"),
    path(
        "household/invitations/<int:pk>/<str:answer>/",
        household_views.household_answer,
        name="household_answer",
    ),
    path("household/leave/", household_views.household_leave, name="household_leave"),
    path("ways-to-earn/", views.ways_to_earn, name="ways_to_earn"),
    path("membership/", views.membership, name="membership"),
    path("membership/subscribe/<int:plan_id>/", views.membership_subscribe, name="membership_subscribe"),
    path("membership/cancel/", views.membership_cancel, name="membership_cancel"),
    path("profile/", views.profile, name="profile"),
    path("profile/consents/", views.profile_consents, name="profile_consents"),
    path("profile/password/", views.profile_password, name="profile_password"),
    path("profile/my-data.json", views.profile_export, name="profile_export"),
    path("profile/delete/", views.profile_delete, name="profile_delete"),
    path("email/confirm/<str:token>/", views.email_confirm, name="email_confirm"),
    path("email/report/<str:token>/", views.email_report, name="email_report"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("brand/<slug:slug>.css", views.brand_css, name="brand_css"),
    path("brand/<slug:slug>/logo", views.brand_logo, name="brand_logo"),
]
