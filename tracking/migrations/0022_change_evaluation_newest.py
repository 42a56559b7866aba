# Each evaluation's newest change record as one index probe (the data versions of the evaluation page,
# the office page and a person's key actions): (evaluation, id) replaces (evaluation, time).

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('tracking', '0021_action_update_newest'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='changerecord',
            name='tracking_ch_evaluat_d3606c_idx',
        ),
        migrations.AddIndex(
            model_name='changerecord',
            index=models.Index(fields=['evaluation', 'id'], name='change_evaluation_newest'),
        ),
    ]
