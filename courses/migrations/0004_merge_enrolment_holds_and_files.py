from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0003_enrolment_holds"),
        ("courses", "0003_storedfile_moves_to_files"),
    ]

    operations = []
