from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "partnerdesk.practice"
    label = "practice"
