from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "attend.accounts"
    label = "accounts"
    verbose_name = "Accounts, roles and scopes"
