"""deploy/render_dapr_system.py: how the chart's output becomes deploy/dapr-system/."""

import yaml

from deploy import render_dapr_system as render

_RENDERED = {
    "templates": {
        "dapr/templates/NOTES.txt": "Thank you for installing Dapr",
        "dapr/charts/dapr_operator/templates/_helpers.tpl": "",
        "dapr/charts/dapr_operator/templates/dapr_operator_service.yaml": (
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: dapr-api\n"
        ),
        "dapr/charts/dapr_operator/templates/dapr_operator_deployment.yaml": (
            "\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: dapr-operator\n"
        ),
        "dapr/charts/dapr_sidecar_injector/templates/pdb.yaml": "\n",
    },
    "crds": {
        "crds/components.yaml": (
            "---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        )
    },
}


def test_one_file_per_component_in_template_order() -> None:
    files = render.render_files(_RENDERED, "1.18.2")
    assert sorted(files) == [
        "crds/components.yaml",
        "kustomization.yaml",
        "namespace.yaml",
        "operator.yaml",
    ]
    operator = [d for d in yaml.safe_load_all(files["operator.yaml"]) if d]
    assert [d["kind"] for d in operator] == ["Deployment", "Service"]
    assert files["operator.yaml"].startswith(
        "# Rendered from charts/dapr of github.com/dapr/dapr@v1.18.2"
    )


def test_the_kustomization_lists_everything_and_names_the_images_to_map() -> None:
    files = render.render_files(_RENDERED, "1.18.2")
    kustomization = yaml.safe_load(files["kustomization.yaml"])
    assert kustomization["resources"] == ["namespace.yaml", "crds/components.yaml", "operator.yaml"]
    names = {i["name"] for i in kustomization["images"]}
    assert "ghcr.io/dapr/injector" in names and "ghcr.io/dapr/daprd" not in names
    namespace = yaml.safe_load(files["namespace.yaml"])
    assert namespace["metadata"]["name"] == "dapr-system"


def test_only_templates_of_subcharts_become_files() -> None:
    assert (
        render.component_file("dapr/charts/dapr_sidecar_injector/templates/a.yaml")
        == "sidecar-injector.yaml"
    )
    assert render.component_file("dapr/templates/NOTES.txt") is None
    assert render.component_file("dapr/charts/dapr_rbac/templates/_helpers.tpl") is None


def test_no_object_claims_to_be_managed_by_helm() -> None:
    doc = {
        "metadata": {"labels": {"app.kubernetes.io/managed-by": "Helm", "app": "x"}},
        "spec": {"selector": {"matchLabels": {"app.kubernetes.io/managed-by": "Helm"}}},
    }
    assert render.without_helm_labels(doc) == {
        "metadata": {"labels": {"app": "x"}},
        "spec": {"selector": {"matchLabels": {}}},
    }
