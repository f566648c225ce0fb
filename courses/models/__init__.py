from courses.models.calendar import CalendarFeed, PersonalEvent
from courses.models.course import Course, Enrollment, Visibility, WaitlistEntry
from courses.models.items import CourseItem, ItemKind, LatePolicy
from courses.models.work import Attendance, AttendanceStatus, Submission

__all__ = [
    "Attendance",
    "AttendanceStatus",
    "CalendarFeed",
    "Course",
    "CourseItem",
    "Enrollment",
    "ItemKind",
    "LatePolicy",
    "PersonalEvent",
    "Submission",
    "Visibility",
    "WaitlistEntry",
]
