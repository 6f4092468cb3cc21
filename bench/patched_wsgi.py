"""gunicorn entry point for the experiments: the real app plus the changes named in BENCH_PATCHES.

`BENCH_PATCHES=auth_cache gunicorn -c config/gunicorn.conf.py bench.patched_wsgi:app`
(names from bench.patches; none: the app exactly as service_hub.wsgi builds it).
"""

from bench import patches
from service_hub import create_app

patches.apply(patches.from_env())
app = create_app()
