from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courses"

    def ready(self) -> None:
        # Imported here, not at the top: app modules may load models only once the registry is.
        from courses import access
        from files import access as file_access

        file_access.register_download_rule(
            access.may_download_course_file,
            related=("course", "submission__item__course"),
            is_public=access.is_public_cover,
        )
