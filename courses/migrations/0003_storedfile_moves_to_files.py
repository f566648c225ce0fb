# StoredFile now belongs to the files app (files 0001 took it over on the same
# table): point courses' links at it and drop it from courses' state. Nothing in
# the database changes. Every app that linked to courses.StoredFile is repointed
# first, so no state is left pointing at a model that is gone.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0002_schedule_help_text"),
        ("files", "0001_initial"),
        ("messaging", "0002_attachment_file_in_files"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="course",
                    name="cover",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="files.storedfile",
                    ),
                ),
                migrations.AlterField(
                    model_name="courseitem",
                    name="file",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="files.storedfile",
                    ),
                ),
                migrations.DeleteModel(name="StoredFile"),
            ],
            database_operations=[],
        ),
    ]
