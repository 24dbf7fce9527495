//! The container files stay consistent with the binary and the README (issue 24): every
//! command `docker-compose.yml` and the `Dockerfile` give the runtime image's `fxrecon` is
//! accepted by the real binary (`run` passes `--check-config` with the container's paths mapped
//! to a scratch directory; the others accept their flags before `--help`), the Dockerfile's
//! default command is the daemon's, the test profile runs what the README names, and the CI
//! workflow runs only commands the README names. No Docker engine runs here, so the images are
//! not built by this test.

mod common;

use std::path::{Path, PathBuf};

use common::{bin, scratch};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(repo().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A compose service: its name, the image stage it builds, its profiles and its command.
#[derive(Debug)]
struct Service {
    name: String,
    target: String,
    test_profile: bool,
    command: Vec<String>,
}

/// The services of `docker-compose.yml`, read by a parser for the form it is written in (two
/// spaces per level; `command` a JSON array, which YAML reads as the same flow sequence).
fn services(yaml: &str) -> Vec<Service> {
    let mut out: Vec<Service> = Vec::new();
    let mut in_services = false;
    for line in yaml.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            in_services = line == "services:";
            continue;
        }
        if !in_services {
            continue;
        }
        if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':')).filter(|l| !l.starts_with(' ')) {
            out.push(Service { name: name.to_string(), target: String::new(), test_profile: false, command: vec![] });
            continue;
        }
        let s = out.last_mut().expect("a key before the first service");
        let l = line.trim();
        if let Some(c) = l.strip_prefix("command: ") {
            s.command =
                serde_json::from_str(c).unwrap_or_else(|e| panic!("{}: command is not a flow sequence: {e}", s.name));
        } else if let Some(p) = l.strip_prefix("profiles: ") {
            s.test_profile = p.contains("test");
        } else if let Some(b) = l.strip_prefix("build: ") {
            s.target = b.split("target: ").nth(1).expect("a build target").trim_end_matches(['}', ' ']).to_string();
        }
    }
    out
}

/// The JSON array after `key` on the Dockerfile line that starts with it.
fn dockerfile_array(dockerfile: &str, key: &str) -> Vec<String> {
    let line = dockerfile.lines().find(|l| l.starts_with(key)).unwrap_or_else(|| panic!("no {key}"));
    serde_json::from_str(line[key.len()..].trim()).unwrap()
}

/// Runs the runtime image's `fxrecon` with `args` (container paths mapped to `scratch`).
fn accepted(args: &[String], scratch: &Path, what: &str) {
    let map = |a: &String| -> String {
        a.replace("/etc/fxrecon/fxrecon.toml", &repo().join("deploy/fxrecon.toml").display().to_string())
            .replace("/var/lib/fxrecon", &scratch.join("var").display().to_string())
            .replace("/dev/shm/fxrecon", &scratch.join("shm").display().to_string())
    };
    let mut args: Vec<String> = args.iter().map(map).collect();
    args.push(if args[0] == "run" { "--check-config" } else { "--help" }.to_string());
    let o = bin().args(&args).output().unwrap();
    assert!(o.status.success(), "{what}: fxrecon {} failed: {}", args.join(" "), String::from_utf8_lossy(&o.stderr));
    if args[0] == "run" {
        let said = String::from_utf8_lossy(&o.stdout);
        assert!(said.contains("primary:  aeron:ipc stream 1001 (Aeron)"), "{what}: {said}");
        assert!(said.contains("out-aeron: aeron:ipc stream 2001"), "{what}: {said}");
    }
}

#[test]
fn compose_dockerfile_and_ci_name_commands_that_exist_and_the_readme_names() {
    let readme = read("README.md");
    let compose = services(&read("docker-compose.yml"));
    let dockerfile = read("Dockerfile");
    let tmp = scratch("containers");
    std::fs::create_dir_all(tmp.path().join("var")).unwrap();

    let names: Vec<&str> = compose.iter().map(|s| s.name.as_str()).collect();
    for needed in ["recon-daemon", "unit-tests", "integration-tests"] {
        assert!(names.contains(&needed), "docker-compose.yml has no {needed}: {names:?}");
    }
    assert!(compose.iter().any(|s| s.command.first().is_some_and(|c| c == "publish")), "no publisher service");
    assert_eq!(dockerfile_array(&dockerfile, "ENTRYPOINT"), ["fxrecon"]);
    let daemon = compose.iter().find(|s| s.name == "recon-daemon").unwrap();
    assert_eq!(dockerfile_array(&dockerfile, "CMD"), daemon.command, "the image's default command is not the daemon's");
    for s in &compose {
        assert!(!s.command.is_empty(), "{} has no command", s.name);
        match (s.test_profile, s.target.as_str()) {
            (false, "runtime") => accepted(&s.command, tmp.path(), &s.name),
            (true, "builder") => {
                let cmd = s.command.join(" ");
                assert!(readme.contains(&cmd), "{}: `{cmd}` is not a command the README names", s.name);
            }
            other => panic!("{}: unexpected profile/target {other:?}", s.name),
        }
    }
    let dockerfile_cmd = dockerfile_array(&dockerfile, "CMD");
    accepted(&dockerfile_cmd, tmp.path(), "Dockerfile CMD");

    let ci = read(".github/workflows/ci.yml");
    let runs: Vec<&str> = ci.lines().filter_map(|l| l.trim().strip_prefix("run: ")).collect();
    assert!(runs.len() >= 3, "{runs:?}");
    for r in runs {
        assert!(readme.contains(r), "ci.yml runs `{r}`, which the README does not name");
    }
    // The runtime image is built portable (D61).
    assert!(dockerfile.contains("RUSTERON_C_MARCH=x86-64-v2"));
}

#[test]
fn the_compose_parser_reads_services_profiles_and_commands() {
    let yaml = "services:\n  a:\n    build: { context: ., target: runtime }\n    command: [\"gen\", \"--seed\", \"7\"]\n  b:\n    profiles: [test]\n    build: { context: ., target: builder }\n    command: [\"scripts/test.sh\"]\nvolumes:\n  data: {}\n";
    let s = services(yaml);
    assert_eq!(s.len(), 2);
    assert_eq!((s[0].name.as_str(), s[0].target.as_str(), s[0].test_profile), ("a", "runtime", false));
    assert_eq!(s[0].command, ["gen", "--seed", "7"]);
    assert_eq!((s[1].name.as_str(), s[1].target.as_str(), s[1].test_profile), ("b", "builder", true));
}
