# Podium on Nomad (docs/deployment.md):
#
#   nomad var put nomad/jobs/podium read_token=<secret id of a read-only ACL token>
#   nomad job run deploy/nomad/podium.nomad.hcl
#
# The token needs only node:read, agent:read and read-job in the namespaces shown (docs/nomad.md):
#   namespace "*" { policy = "read" }   node { policy = "read" }   agent { policy = "read" }
job "podium" {
  type = "service"

  group "podium" {
    count = 1 # one writer of the SQLite history on the volume

    network {
      port "http" { to = 8501 }
    }

    # a host volume declared in the client's config: client { host_volume "podium-data" { path = "/srv/podium" } }
    # (owned by uid 10001); or any CSI volume
    volume "data" {
      type      = "host"
      source    = "podium-data"
      read_only = false
    }

    service {
      name     = "podium"
      port     = "http"
      provider = "nomad"

      check {
        name     = "healthz"
        type     = "http"
        path     = "/healthz"
        interval = "15s"
        timeout  = "5s"
      }
    }

    task "podium" {
      driver = "docker"
      user   = "10001:10001"

      config {
        image           = "podium:latest"
        ports           = ["http"]
        readonly_rootfs = true
        cap_drop        = ["all"]
        security_opt    = ["no-new-privileges"]
        # first start only: seed the volume's config from the template below (Settings edits it later)
        command = "sh"
        args    = ["-c", "[ -s /data/clusters.yaml ] || cp /local/clusters.yaml /data/clusters.yaml; exec streamlit run app.py"]
        mount {
          type   = "tmpfs"
          target = "/tmp"
          readonly = false
          tmpfs_options { size = 268435456 }
        }
      }

      volume_mount {
        volume      = "data"
        destination = "/data"
      }

      env {
        PODIUM_CONFIG = "/data/clusters.yaml"
      }

      # the cluster list: this Nomad cluster, through the local agent
      template {
        destination = "local/clusters.yaml"
        data        = <<-EOT
          settings:
            poll_interval_s: 15
            timeout_s: 10
            history_dir: history
          clusters:
            - name: nomad
              orchestrator: nomad
              url: http://{{ env "attr.unique.network.ip-address" }}:4646
              token_env: NOMAD_READ_TOKEN
              regions: all
        EOT
      }

      # the read-only ACL token, from a Nomad Variable, into the environment (never into a file Podium shows)
      template {
        destination = "secrets/podium.env"
        env         = true
        data        = <<-EOT
          NOMAD_READ_TOKEN={{ with nomadVar "nomad/jobs/podium" }}{{ .read_token }}{{ end }}
        EOT
      }

      resources {
        cpu    = 500
        memory = 1024
      }
    }
  }
}
