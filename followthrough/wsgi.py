import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followthrough.settings")
application = get_wsgi_application()

# What loading the app made (modules, classes, models, settings: ~130,000 objects) lives as long as the worker. Moved
# out of the garbage collector's reach, a full collection walks what requests made, not all of that too: one took
# 70 ms in the middle of an annual report at L. Collected first: no garbage of startup is frozen with them.
gc.collect()
gc.freeze()
