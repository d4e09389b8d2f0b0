# meshplan's container image: the Argo CD plugin sidecar (plugins/argocd/plugin.yaml) and the
# Flux gate Job (examples/flux-gate). Argo CD runs the plugin's commands without a shell;
# the image has meshplan, kubectl (for `kubectl kustomize`, Kustomize 5.7) and git.
#
#   docker build -t registry.example.com/meshplan:v0.1.0 .

FROM rust:1.89-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --locked --release --bin meshplan

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 999 --user-group --create-home --home-dir /home/argocd argocd
COPY --from=build /src/target/release/meshplan /usr/local/bin/meshplan
# A static binary; its built-in Kustomize (5.7.1) is the one meshplan's tests build with.
COPY --from=registry.k8s.io/kubectl:v1.35.2 /bin/kubectl /usr/local/bin/kubectl
# Where Argo CD's cmp-server looks for the plugin; a ConfigMap mounted there overrides it.
COPY plugins/argocd/plugin.yaml /home/argocd/cmp-server/config/plugin.yaml
# Argo CD requires the plugin sidecar to run as user 999.
USER 999:999
WORKDIR /home/argocd
ENTRYPOINT ["meshplan"]
