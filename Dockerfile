# msp-ops production image: gunicorn (web), celery worker and celery beat all run from it.
# docker-compose.yml builds it; see README "Production with docker compose".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    MSP_OPS_DATA_DIR=/app/data \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app

# Dependencies first (their own layer, rebuilt only when pyproject.toml changes). The
# project itself runs from /app (PYTHONPATH), where templates/ and static/ live.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
      > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .

# Static files are collected (and compressed, with hashed names) once, at build time;
# whitenoise serves them. The key below exists only for this build step.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --system --uid 1000 --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app/data \
    && chown -R app:app /app/data

USER app
EXPOSE 8000

CMD ["gunicorn", "msp_ops.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
