# One image for every role: `referral api` (the default), `referral bot`, `referral migrate`,
# `referral check-config`. Build: docker build -t referral-service .

# Both stages use the same base: the venv's python is a symlink to the base's interpreter.
ARG PYTHON_IMAGE=python:3.11-slim

# ---- builder: resolve nothing, install exactly what uv.lock says ----------------------------
FROM ${PYTHON_IMAGE} AS builder
ARG UV_VERSION=0.13.9
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
RUN pip install "uv==${UV_VERSION}"
WORKDIR /app
# Dependencies first, in their own layer: it is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project
# Then the project itself (the migrations are inside the db package).
COPY README.md ./
COPY core ./core
COPY db ./db
COPY bot ./bot
RUN uv sync --locked --no-dev \
    && python -m compileall -q core db bot

# ---- runtime: the venv and the code, no compiler, no uv, not root ----------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 referral \
    && useradd --system --uid 10001 --gid referral --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin referral
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
WORKDIR /app
# The code stays root-owned (read-only to the service); only var/ (the SQLite default,
# the development SMS file) is writable.
RUN mkdir -p /app/var && chown referral:referral /app/var
USER referral:referral
EXPOSE 8000
# /healthz answers while the process serves; a non-2xx answer or no answer makes urlopen raise.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('API_PORT', '8000'), timeout=4)"
ENTRYPOINT ["referral"]
CMD ["api", "--host", "0.0.0.0"]
