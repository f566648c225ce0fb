# The table gets the files app's name now that the model lives here. A rename
# only: the rows, the foreign keys that point at them and the blobs stay as they are.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("files", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelTable(name="storedfile", table=None),
        migrations.RenameIndex(
            model_name="storedfile",
            new_name="files_store_uploade_4538d0_idx",
            old_name="courses_sto_uploade_27a7d7_idx",
        ),
    ]
