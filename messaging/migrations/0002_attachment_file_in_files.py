# StoredFile moved from courses to files on the same table: repoint the link in
# state only; the database column and its constraint stay as they are.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("files", "0001_initial"),
        ("messaging", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="attachment",
                    name="file",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="message_attachment",
                        to="files.storedfile",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
