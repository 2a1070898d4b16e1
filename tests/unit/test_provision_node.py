"""The node's provisioning pieces: wrapper modules, version stamps, the OCI archive writer."""

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from fleet.provision import coredns, etcd, gomodule, kubernetes, oci, pause, pieces
from fleet.provision.errors import ProvisionError

_K8S_GO_MOD = """\
module k8s.io/kubernetes

go 1.26.0

require (
\tgithub.com/spf13/cobra v1.10.0
\tk8s.io/api v0.0.0
\tk8s.io/client-go v0.0.0
)

require golang.org/x/net v0.40.0 // indirect

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go
\tk8s.io/sample-controller => ./staging/src/k8s.io/sample-controller
)
"""


def _module(tmp_path: Path, go_mod: str, path: str, version: str) -> gomodule.Module:
    mod = tmp_path / "upstream.mod"
    mod.write_text(go_mod)
    return gomodule.Module(path, version, mod, tmp_path, "h1:sum=", "h1:modsum=")


def test_kubernetes_staging_replaces_are_pinned_to_the_published_modules(tmp_path: Path) -> None:
    k8s = kubernetes.piece("1.37.2")
    assert k8s.version_of is not None
    upstream = _module(tmp_path, _K8S_GO_MOD, "k8s.io/kubernetes", "v1.37.2")
    go_mod = gomodule.wrapper_go_mod(upstream, k8s.wrapper_name, k8s.version_of)
    assert go_mod.startswith("module orderfleet.local/kubernetesbuild\n")
    assert "\tk8s.io/api => k8s.io/api v0.37.2\n" in go_mod
    assert "./staging" not in go_mod
    assert go_mod.rstrip().endswith("require k8s.io/kubernetes v1.37.2")
    # Only what upstream requires gets a sum looked up: sample-controller is not published.
    assert gomodule.pinned_modules(_K8S_GO_MOD, k8s.version_of) == [
        "k8s.io/api@v0.37.2",
        "k8s.io/client-go@v0.37.2",
    ]


def test_a_local_replace_without_a_published_version_is_refused(tmp_path: Path) -> None:
    upstream = _module(tmp_path, _K8S_GO_MOD, "k8s.io/kubernetes", "v1.37.2")
    with pytest.raises(ProvisionError, match="local directories"):
        gomodule.wrapper_go_mod(upstream, "orderfleet.local/x", None)


def test_etcd_siblings_are_pinned_to_the_servers_version() -> None:
    go_mod = (
        "module go.etcd.io/etcd/server/v3\n\nrequire go.etcd.io/etcd/api/v3 v3.7.3\n\n"
        "replace (\n\tgo.etcd.io/etcd/api/v3 => ../api\n)\n"
    )
    piece = etcd.piece("3.7.3")
    assert piece.version_of is not None
    pinned = gomodule.pin_local_replaces(go_mod, piece.version_of)
    assert "go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 v3.7.3" in pinned
    assert piece.commands == ("etcd",) and piece.wrapper_name == "orderfleet.local/etcd"
    assert piece.main_go is not None and "etcdmain.Main(os.Args)" in piece.main_go


def test_kubernetes_binaries_are_stamped_with_their_version() -> None:
    k8s = kubernetes.piece("1.37.2")
    assert "-s -w" in k8s.ldflags
    assert "-X k8s.io/component-base/version.gitVersion=v1.37.2" in k8s.ldflags
    assert "-X k8s.io/client-go/pkg/version.gitMinor=37" in k8s.ldflags
    assert kubernetes.staging_version("1.37.2") == "v0.37.2"
    command = gomodule.build_command(
        "go", gomodule.BuildRequest(Path("/w"), Path("/o"), k8s.packages, k8s.tags, k8s.ldflags)
    )
    assert command[:4] == ["go", "build", "-v", "-trimpath"]
    assert command[-6:] == [f"k8s.io/kubernetes/cmd/{c}" for c in kubernetes.COMMANDS]


def test_coredns_compiles_in_only_the_plugins_of_the_corefile() -> None:
    source = coredns.main_go(("kubernetes", "cache"))
    assert '_ "github.com/coredns/coredns/plugin/kubernetes"' in source
    assert "route53" not in source and "coremain.Run()" in source


def test_go_mod_download_output_is_a_stream_of_objects() -> None:
    text = '{\n "Path": "a", "Version": "v1"\n}\n{\n "Path": "b", "Version": "v2"\n}\n'
    assert [o["Path"] for o in gomodule._json_objects(text)] == ["a", "b"]


def test_required_versions_ignore_replaced_targets() -> None:
    required = gomodule.required_versions(_K8S_GO_MOD)
    assert required["github.com/spf13/cobra"] == "v1.10.0"
    assert required["golang.org/x/net"] == "v0.40.0"
    assert "k8s.io/sample-controller" not in required


def test_pause_tag_comes_from_its_makefile() -> None:
    assert pause.makefile_tag("IMAGE = x\nTAG ?= 3.10.2\nREV = 0\n") == "3.10.2"
    with pytest.raises(ProvisionError):
        pause.makefile_tag("nothing here\n")


def test_the_node_pieces_serve_k8s_up_and_make_test_and_never_make_run() -> None:
    names = {"debian-node-packages", "kubernetes", "etcd", "coredns", "crictl", "pause"}
    assert {p.name for p in pieces.for_purpose("k8s")} >= names
    assert {p.name for p in pieces.for_purpose("test")} >= names  # the k8s tier
    assert not names & {p.name for p in pieces.for_purpose("run")}


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def test_an_oci_archive_names_its_image_and_its_digests_hold(tmp_path: Path) -> None:
    out = tmp_path / "img.tar"
    digest = oci.write_archive(
        out,
        "localhost/order-fleet/pause:3.10.2",
        [oci.Entry("bin/pause", b"\x7fELF...", 0o755)],
        oci.ImageConfig(entrypoint=("/bin/pause",), user="65535:65535"),
    )
    files = _members(out)
    for name, blob in files.items():
        if name.startswith("blobs/sha256/"):
            assert hashlib.sha256(blob).hexdigest() == name.rsplit("/", 1)[1]
    index = json.loads(files["index.json"])
    [entry] = index["manifests"]
    assert entry["digest"] == digest
    assert entry["annotations"]["io.containerd.image.name"] == "localhost/order-fleet/pause:3.10.2"
    manifest = json.loads(files[f"blobs/sha256/{digest[7:]}"])
    config = json.loads(files[f"blobs/sha256/{manifest['config']['digest'][7:]}"])
    assert config["config"]["User"] == "65535:65535"
    assert config["rootfs"]["diff_ids"] == [manifest["layers"][0]["digest"]]
    layer = files[f"blobs/sha256/{manifest['layers'][0]['digest'][7:]}"]
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        assert [m.name for m in tar.getmembers()] == ["bin", "bin/pause"]
        assert tar.getmember("bin/pause").mode == 0o755


def test_the_same_files_give_the_same_image(tmp_path: Path) -> None:
    def build(name: str) -> str:
        return oci.write_archive(
            tmp_path / name, "x/y:1", [oci.Entry("a", b"1")], oci.ImageConfig(("/a",))
        )

    assert build("one.tar") == build("two.tar")


def test_an_image_reference_needs_a_tag() -> None:
    assert oci.split_reference("localhost:5000/a/b:1.2") == ("localhost:5000/a/b", "1.2")
    with pytest.raises(ValueError):
        oci.split_reference("localhost:5000/a/b")
