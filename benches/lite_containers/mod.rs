//! The `containers` section: what a task in a container costs over the engine's own floor
//! (create + start + wait + remove of the same image) and over a subprocess task.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{chain_gap, free_port, get, percentile, run_dag, spawn_with, stop};

#[path = "../../tests/it/engine_images.rs"]
#[allow(dead_code)]
mod engine_images;

use engine_images::{SHELL_IMAGE, docker_host, images, with_engine};

/// Milliseconds for one bare `true` container on the engine (create, start, wait, remove).
fn floor_ms() -> f64 {
    with_engine(async |docker| {
        use bollard::models::ContainerCreateBody;
        use futures_util::StreamExt;
        let t0 = Instant::now();
        let body = ContainerCreateBody {
            image: Some(SHELL_IMAGE.into()),
            cmd: Some(vec!["true".into()]),
            ..Default::default()
        };
        let id = docker.create_container(None, body).await.unwrap().id;
        docker.start_container(&id, None).await.unwrap();
        let mut wait = docker.wait_container(&id, None);
        while wait.next().await.is_some() {}
        docker.remove_container(&id, None).await.unwrap();
        t0.elapsed().as_secs_f64() * 1000.0
    })
}

/// Two Leoflow projects (folder, `leoflow.yaml` naming the image, `dag.py`).
fn write_dags(dags: &Path, tasks: usize) {
    let head = "from airflow.sdk import DAG, chain\nfrom airflow.providers.standard.operators.bash import BashOperator\n";
    let projects = [
        (
            "box_chain",
            format!(
                "chain(*[BashOperator(task_id=f't{{i:02d}}', bash_command='true') for i in range({tasks})])"
            ),
        ),
        (
            "box_fan",
            "[BashOperator(task_id=f'f{i:02d}', bash_command='true') for i in range(16)]"
                .to_string(),
        ),
    ];
    for (dag_id, body) in projects {
        let dir = dags.join(dag_id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("dag.py"),
            format!(
                "{head}with DAG('{dag_id}', schedule=None, max_active_tasks=16):\n    {body}\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("leoflow.yaml"),
            format!("schema_version: \"1.0\"\ndag_id: {dag_id}\nbase_image: {SHELL_IMAGE}\n"),
        )
        .unwrap();
    }
}

/// Figures of one server running the chain (3 times) and, when `fan`, the fan-out.
struct Chain {
    walls: Vec<f64>,
    durations: Vec<f64>,
    gaps: Vec<f64>,
    fan: f64,
    rss: f64,
}

impl Chain {
    fn run(
        home: &Path,
        dags: &Path,
        envs: &[(&str, &str)],
        extra: &[&str],
        n: usize,
        fan: bool,
    ) -> Chain {
        std::fs::create_dir_all(home).unwrap();
        let port = free_port();
        let child = spawn_with(home, port, dags, envs, extra);
        let t0 = Instant::now();
        while !get(port, "/api/v2/monitor/health")
            .is_some_and(|(s, b)| s == 200 && b.contains("\"initial_scan_done\":true"))
        {
            assert!(t0.elapsed() < Duration::from_secs(30), "server not ready");
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut c = Chain {
            walls: Vec::new(),
            durations: Vec::new(),
            gaps: Vec::new(),
            fan: 0.0,
            rss: 0.0,
        };
        for _ in 0..3 {
            let (wall, tis) = run_dag(port, "box_chain");
            assert_eq!(tis.len(), n);
            c.walls.push(wall);
            c.gaps.push(chain_gap(&tis));
            c.durations.extend(
                tis.iter()
                    .map(|t| t["duration"].as_f64().unwrap_or(0.0) * 1000.0),
            );
        }
        if fan {
            let (ms, tis) = run_dag(port, "box_fan");
            assert_eq!(tis.len(), 16);
            c.fan = ms;
        }
        c.rss = super::rss_kib(child.id()) as f64 / 1024.0;
        stop(child);
        for v in [&mut c.walls, &mut c.durations, &mut c.gaps] {
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        }
        c
    }
}

pub fn containers() {
    let env = |k: &str| std::env::var(k).ok();
    let reachable = leoflow::executor::engine::candidates(&env)
        .iter()
        .any(|h| Path::new(h.trim_start_matches("unix://")).exists());
    if !reachable {
        println!("containers: skipped (no container engine: set DOCKER_HOST or run scripts/test)");
        return;
    }
    images();
    let mut floors: Vec<f64> = (0..10).map(|_| floor_ms()).collect();
    floors.sort_by(|a, b| a.partial_cmp(b).unwrap());

    let dir = tempfile::tempdir().unwrap();
    let dags = dir.path().join("dags");
    std::fs::create_dir_all(&dags).unwrap();
    const N: usize = 10;
    write_dags(&dags, N);
    let host = docker_host();
    // The same chain in the image (--executor docker), then as subprocesses (the default
    // executor ignores the project's image for bash tasks).
    let boxed = Chain::run(
        dir.path(),
        &dags,
        &[("DOCKER_HOST", &host)],
        &["--executor", "docker"],
        N,
        true,
    );
    let plain = Chain::run(&dir.path().join("plain"), &dags, &[], &[], N, false);
    let (walls, durations, gaps) = (&boxed.walls, &boxed.durations, &boxed.gaps);
    let (fan, rss) = (boxed.fan, boxed.rss);
    let floor = percentile(&floors, 0.5);
    let task = percentile(durations, 0.5);
    let sub = percentile(&plain.durations, 0.5);
    println!("containers: --executor docker on {host}");
    println!(
        "  engine floor (create + start + wait + remove of `true`): median {floor:.0} ms, p90 {:.0} ms",
        percentile(&floors, 0.9)
    );
    println!(
        "  chain of {N} bash `true` in the image: wall {:.0} ms (median of 3), task duration median {task:.0} ms, p90 {:.0} ms (median overhead over the floor {:.0} ms), scheduler gap median {:.1} ms",
        percentile(walls, 0.5),
        percentile(durations, 0.9),
        task - floor,
        percentile(gaps, 0.5)
    );
    println!(
        "  the same chain as subprocesses: wall {:.0} ms, task duration median {sub:.1} ms: a container task costs {:.0} ms more",
        percentile(&plain.walls, 0.5),
        task - sub
    );
    println!("  16 container tasks in parallel: {fan:.0} ms trigger to run success");
    println!("  server RSS after the runs: {rss:.1} MiB");
}
