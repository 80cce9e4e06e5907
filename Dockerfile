# queuewatch container image: a static binary (pure-Go SQLite, no cgo) on a
# distroless base, running as an unprivileged user.
#
#   docker build -t queuewatch --build-arg VERSION=$(git describe --tags --always) .
#   docker run -p 8080:8080 -v qw-data:/var/lib/queuewatch \
#     -v $PWD/queuewatch.yaml:/etc/queuewatch/queuewatch.yaml:ro queuewatch
#
# Inside a container the configuration must listen on all interfaces
# (listen: 0.0.0.0:8080) and keep its store under /var/lib/queuewatch. See
# docs/install.md.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/queuewatch/queuewatch/internal/app.version=${VERSION}" \
      -o /out/queuewatch ./cmd/queuewatch \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/queuewatch /usr/local/bin/queuewatch
# The state directory belongs to the image's nonroot user (65532).
COPY --from=build --chown=65532:65532 /out/data /var/lib/queuewatch
USER 65532:65532
WORKDIR /var/lib/queuewatch
VOLUME ["/var/lib/queuewatch"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/queuewatch"]
CMD ["serve", "--config", "/etc/queuewatch/queuewatch.yaml", "--log-format", "json"]
