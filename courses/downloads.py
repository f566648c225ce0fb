"""Who may download the course files: covers, materials and submissions."""

from courses import access
from files import access as file_access

file_access.register_download_rule(
    access.may_download_course_file,
    related=("course", "submission__item__course"),
    is_public=access.is_public_cover,
)
