# syntax=docker/dockerfile:1
#
# gpucache container images, for linux/amd64 and linux/arm64 (the DPU):
#
#   docker build -t gpucache .                          static binary, no fast path
#   docker build --target fabric -t gpucache:fabric .   with libfabric (BLOB.* over
#                                                        verbs, efa, tcp, shm)
#   docker buildx build --platform linux/amd64,linux/arm64 -t gpucache .
#
# Both run as an unprivileged user with their data under /data (a volume).
# The server binds all interfaces inside the container; publish its ports
# on the host's loopback unless clients come from elsewhere (see
# docker-compose.yml).

ARG GO_VERSION=1.26
ARG DEBIAN=bookworm

# --- static build: cross-compiled on the build host for the target arch ----
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-${DEBIAN} AS build
ARG TARGETOS TARGETARCH
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/gpucache ./cmd/gpucache

# --- fabric build: cgo against libfabric, built on the target platform ------
FROM golang:${GO_VERSION}-${DEBIAN} AS build-fabric
ARG VERSION=dev
RUN apt-get update \
 && apt-get install -y --no-install-recommends libfabric-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -tags fabric -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
    -o /out/gpucache ./cmd/gpucache

# --- fabric runtime: libfabric's shared library and providers ---------------
FROM debian:${DEBIAN}-slim AS fabric
RUN apt-get update \
 && apt-get install -y --no-install-recommends libfabric1 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data gpucache \
 && mkdir -p /data /devices \
 && chown gpucache:gpucache /data /devices
COPY --from=build-fabric /out/gpucache /usr/local/bin/gpucache
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# RESP, S3, admin HTTP (/metrics, /healthz)
EXPOSE 6379 9000 9190
ENTRYPOINT ["/usr/local/bin/gpucache"]
CMD ["--dir", "/data", "--bind", "0.0.0.0", "--s3-bind", "0.0.0.0", "--admin-port", "9190"]

# --- default runtime: the static binary alone -------------------------------
FROM debian:${DEBIAN}-slim AS static
RUN useradd --system --uid 10001 --home-dir /data gpucache \
 && mkdir -p /data /devices \
 && chown gpucache:gpucache /data /devices
COPY --from=build /out/gpucache /usr/local/bin/gpucache
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 6379 9000 9190
ENTRYPOINT ["/usr/local/bin/gpucache"]
CMD ["--dir", "/data", "--bind", "0.0.0.0", "--s3-bind", "0.0.0.0", "--admin-port", "9190"]
