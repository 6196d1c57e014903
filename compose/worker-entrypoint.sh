#!/bin/sh
# The worker container's entrypoint (compose/Dockerfile.worker): make the container's cgroup
# writable, check that boxes run here, then become the worker.
#
# Docker mounts the cgroup file system read-only in a container that is not privileged. The
# container has its own cgroup namespace (`cgroup: private`), so /sys/fs/cgroup is its own
# subtree, which Docker's systemd driver delegated to it; CAP_SYS_ADMIN lets it remount that
# mount read-write (a bind remount: it changes this mount only, not the file system's options).
# Every cgroup mount is remounted, so a cgroup v1 host's per-controller mounts are too.
set -eu

awk '{ for (i = 7; $i != "-"; i++) ; if ($(i + 1) ~ /^cgroup2?$/) print $5, $6 }' /proc/self/mountinfo |
while read -r point options; do
    case ",$options," in
        *,ro,*) mount -o remount,bind,rw,nosuid,nodev,noexec "$point" ;;
    esac
done

# One line per requirement, with the fix; exits 1 (and the container with it) when a box cannot run.
python3 -m sandbox.check

# The node name is what the healthcheck pings: judge-<hostname>@<hostname>.
exec judge worker --name "judge-$(hostname)" "$@"
