// Renders the Dapr Helm chart into plain manifests, offline, once: `make dapr-system`
// (deploy/render_dapr_system.py) runs it and writes deploy/dapr-system/. Users never need
// Helm; this program is the record of how the committed YAML was made.
//
// Output on stdout, JSON: {"templates": {path: yaml}, "crds": {path: yaml}}.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
)

func main() {
	chartDir := flag.String("chart", "", "the chart's folder (charts/dapr in the dapr module)")
	valuesFile := flag.String("values", "", "the values file")
	namespace := flag.String("namespace", "dapr-system", "the release namespace")
	kubeVersion := flag.String("kube-version", "v1.37.2", "the Kubernetes version the templates may check")
	flag.Parse()
	if err := render(*chartDir, *valuesFile, *namespace, *kubeVersion); err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
}

func render(chartDir, valuesFile, namespace, kubeVersion string) error {
	chart, err := loader.LoadDir(chartDir)
	if err != nil {
		return err
	}
	values, err := chartutil.ReadValuesFile(valuesFile)
	if err != nil {
		return err
	}
	// Subcharts switched on or off by values, as `helm install` does before rendering.
	if err := chartutil.ProcessDependenciesWithMerge(chart, values); err != nil {
		return err
	}
	version, err := chartutil.ParseKubeVersion(kubeVersion)
	if err != nil {
		return err
	}
	capabilities := chartutil.DefaultCapabilities.Copy()
	capabilities.KubeVersion = *version
	release := chartutil.ReleaseOptions{Name: "dapr", Namespace: namespace, Revision: 1, IsInstall: true}
	renderValues, err := chartutil.ToRenderValues(chart, values, release, capabilities)
	if err != nil {
		return err
	}
	// No cluster: templates that `lookup` live objects see none, as on a fresh install.
	templates, err := engine.Render(chart, renderValues)
	if err != nil {
		return err
	}
	crds := map[string]string{}
	for _, crd := range chart.CRDObjects() {
		crds[crd.Filename] = string(crd.File.Data)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]map[string]string{"templates": templates, "crds": crds})
}
