# The evaluation list read in its order down an index: (year descending, title, id).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tracking', '0022_change_evaluation_newest'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='evaluation',
            index=models.Index(fields=['-year', 'title', 'id'], name='evaluation_list_order'),
        ),
    ]
