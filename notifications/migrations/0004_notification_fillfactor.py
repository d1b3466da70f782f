"""Leave room in each page of the notifications table for the row's next version.

Every notification is updated after it is written (stamped delivered, digested or read). With some free space on
its page, PostgreSQL writes the new version beside the old one without touching the table's seven indexes (a "HOT"
update), so stamping a digest's lines costs a fraction of the work and the indexes do not bloat. Other databases
have no such setting.
"""

from django.db import migrations


def _set_fillfactor(schema_editor, value: int) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE notifications_notification SET (fillfactor = {int(value)})")


def leave_room(apps, schema_editor) -> None:
    _set_fillfactor(schema_editor, 85)


def fill_pages(apps, schema_editor) -> None:
    _set_fillfactor(schema_editor, 100)


class Migration(migrations.Migration):
    dependencies = [("notifications", "0003_notification_actor")]

    operations = [
        migrations.RunPython(leave_room, fill_pages),
    ]
