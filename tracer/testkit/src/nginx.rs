//! nginx in one process (`master_process off`, so no worker outlives it) in a namespace,
//! stopped on drop: the server of the end-to-end tests, the benchmark and the soak.

use std::{
    thread,
    time::{Duration, Instant},
};

use anyhow::{Context, Result};

use crate::{
    ns::{try_wait_listening, NetNs},
    process::{Proc, Stdout},
    scratch::TempDir,
};

/// The body of nginx's `/` page.
pub const SMALL_PAGE: &str = "hello from nginx\n";
/// The size of nginx's `/big.html` page: several full-sized segments.
pub const BIG_PAGE_LEN: usize = 6000;

/// nginx serving [`SMALL_PAGE`] at `/` and [`BIG_PAGE_LEN`] bytes at `/big.html`.
pub struct Nginx {
    proc: Option<Proc>,
    _dir: TempDir,
}

impl Nginx {
    /// Starts nginx in `ns` listening on each of `listen` (`10.77.0.2:80`, `[fd77::2]:80`)
    /// and waits until it accepts connections on `port`. Pages are files.
    pub fn start(ns: &NetNs, listen: &[&str], port: u16) -> Nginx {
        Nginx::try_start_with(ns, listen, port, "").unwrap_or_else(|e| panic!("nginx: {e:#}"))
    }

    /// As [`Nginx::start`], but `/` answers [`SMALL_PAGE`] from memory (`return 200`): no
    /// open and fstat per request, which halves nginx's rate here and would hide the cost of
    /// a capture. What a load test uses.
    pub fn try_start_in_memory(ns: &NetNs, listen: &[&str], port: u16) -> Result<Nginx> {
        let page = SMALL_PAGE.replace('\n', "\\n");
        Nginx::try_start_with(
            ns,
            listen,
            port,
            &format!("location = / {{ return 200 '{page}'; }} "),
        )
    }

    /// [`Nginx::try_start_in_memory`], panicking.
    pub fn start_in_memory(ns: &NetNs, listen: &[&str], port: u16) -> Nginx {
        Nginx::try_start_in_memory(ns, listen, port).unwrap_or_else(|e| panic!("nginx: {e:#}"))
    }

    /// nginx's pid (one process: `master_process off`).
    pub fn pid(&self) -> u32 {
        self.proc.as_ref().map_or(0, |p| p.child.id())
    }

    fn try_start_with(ns: &NetNs, listen: &[&str], port: u16, locations: &str) -> Result<Nginx> {
        let dir = TempDir::try_new("nginx")?;
        let www = dir.join("www");
        std::fs::create_dir_all(&www).context("nginx's www folder")?;
        std::fs::write(www.join("index.html"), SMALL_PAGE)?;
        let big: String = (0..BIG_PAGE_LEN)
            .map(|i| {
                if i % 64 == 63 {
                    '\n'
                } else {
                    (b'a' + (i % 26) as u8) as char
                }
            })
            .collect();
        std::fs::write(www.join("big.html"), big)?;
        let listens: String = listen.iter().map(|l| format!("listen {l}; ")).collect();
        let conf = dir.join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "worker_processes 1;\nmaster_process off;\ndaemon off;\npid {d}/nginx.pid;\n\
                 error_log {d}/error.log;\nevents {{ worker_connections 4096; }}\n\
                 http {{\n  access_log off;\n  client_body_temp_path {d};\n  proxy_temp_path {d};\n\
                 fastcgi_temp_path {d};\n  uwsgi_temp_path {d};\n  scgi_temp_path {d};\n\
                 server {{ {listens} root {www}; {locations}}}\n}}\n",
                d = dir.path.display(),
                www = www.display(),
            ),
        )?;
        let mut c = ns.cmd("nginx");
        c.arg("-e").arg(dir.join("error.log")).arg("-c").arg(&conf);
        let proc = Proc::try_spawn("nginx", c, Stdout::Collect)?;
        try_wait_listening(ns, port)?;
        Ok(Nginx {
            proc: Some(proc),
            _dir: dir,
        })
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            // SIGTERM: nginx's fast shutdown; SIGKILL (Proc's drop) if it does not exit.
            p.signal(libc::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = p.child.try_wait() {
                    break;
                }
                thread::sleep(Duration::from_millis(20));
            }
        }
    }
}
