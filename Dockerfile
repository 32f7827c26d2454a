# One image for every fastseg service: `docker run IMAGE node ...`, `... restreamer ...`.
# Build stage: compile the Cython extension into a wheel (a failed compile is fatal here).
FROM python:3.11-slim-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY fastseg ./fastseg
COPY services ./services
COPY profiling ./profiling
ENV FASTSEG_REQUIRE_EXTENSION=1
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Runtime stage: ffmpeg, the PostgreSQL server for the embedded database, the wheels.
FROM python:3.11-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg postgresql \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --create-home --uid 1000 fastseg \
    && mkdir -p /data && chown fastseg:fastseg /data
USER 1000
ENV FASTSEG_BASE=/data
VOLUME /data
EXPOSE 8000
ENTRYPOINT ["fastseg"]
CMD ["--help"]
