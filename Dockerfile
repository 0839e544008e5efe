# The kiln image: what a pipeline's promote step and the Argo CD config
# management plugin sidecar run. It needs kiln, git (promote and publish
# shell out to it) and sh (the plugin's generate command), and runs as a
# non-root user so pods that use it meet Pod Security "restricted".
#
#   make image IMAGE=ghcr.io/acme/kiln:0.1.0   (docker build -t IMAGE .)
#
# then push it and name it in the spec as images.kiln; kiln publishes no
# image of its own. Not built by `make test`: the test machine has no
# container runtime (cli's TestDockerfile checks what it can).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/kiln ./cmd/kiln

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 1000 --gid 0 --create-home --home-dir /home/kiln kiln
COPY --from=build /out/kiln /usr/local/bin/kiln
USER 1000
WORKDIR /home/kiln
ENTRYPOINT ["kiln"]
