//! Network namespaces and the links between them: made with `ip`, deleted with everything in
//! them on drop. The first namespace or scratch folder a process makes removes those an
//! aborted run left (`trt-*` namespaces, `tracer-*` folders whose creating process is gone).

use std::{
    io::Read,
    path::Path,
    process::{Command, Stdio},
    sync::{atomic::Ordering, mpsc},
    thread,
    time::Duration,
};

use anyhow::{bail, Context, Result};

use crate::unique_name;

/// Runs `cmd` to completion; its stderr is the error when it fails.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {:?}", cmd.get_program()))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// A network namespace with `lo` up, deleted (with everything in it) on drop.
pub struct NetNs {
    pub name: String,
}

/// The pid in a name this kit made (`...-PID-N`), if that process is gone.
fn dead_owner(name: &str) -> bool {
    let mut parts = name.rsplit('-');
    let (Some(n), Some(pid)) = (parts.next(), parts.next()) else {
        return false;
    };
    n.parse::<u64>().is_ok()
        && pid
            .parse::<u32>()
            .is_ok_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
}

/// Once per process: removes the namespaces (`trt-*`) and scratch folders (`tracer-*` in
/// the temp dir) of earlier runs that were killed before their guards ran. Only those whose
/// creating process is gone: a run going on beside is left alone.
pub(crate) fn clean_up_after_aborted_runs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Ok(out) = Command::new("ip").args(["netns", "list"]).output() {
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let name = line.split_whitespace().next().unwrap_or("");
                if name.starts_with("trt-") && dead_owner(name) {
                    eprintln!("removing namespace {name}, left by an aborted run");
                    let _ = Command::new("ip").args(["netns", "del", name]).status();
                }
            }
        }
        if let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with("tracer-") && dead_owner(&name) && e.path().is_dir() {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    });
}

impl NetNs {
    /// A new namespace `trt-TAG-PID-N`.
    pub fn try_new(tag: &str) -> Result<NetNs> {
        clean_up_after_aborted_runs();
        let name = unique_name("trt", tag);
        run(Command::new("ip").args(["netns", "add", &name]))?;
        let ns = NetNs { name };
        ns.try_ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// [`NetNs::try_new`], panicking.
    pub fn new(tag: &str) -> NetNs {
        NetNs::try_new(tag).unwrap_or_else(|e| panic!("namespace {tag}: {e:#}"))
    }

    /// `ip -n NS ARGS`.
    pub fn try_ip(&self, args: &[&str]) -> Result<()> {
        run(Command::new("ip").arg("-n").arg(&self.name).args(args))
    }

    /// [`NetNs::try_ip`], panicking.
    pub fn ip(&self, args: &[&str]) {
        self.try_ip(args).unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// A command run inside the namespace.
    pub fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }

    /// Runs a shell snippet inside the namespace to completion; returns stdout.
    pub fn sh(&self, script: &str) -> String {
        let out = self
            .cmd("bash")
            .args(["-c", script])
            .output()
            .expect("bash");
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A veth pair: `dev` here, `peer_dev` in `peer`.
    pub fn try_veth_to(&self, dev: &str, peer: &NetNs, peer_dev: &str) -> Result<()> {
        self.try_ip(&[
            "link", "add", dev, "type", "veth", "peer", "name", peer_dev, "netns", &peer.name,
        ])
    }

    /// [`NetNs::try_veth_to`], panicking.
    pub fn veth_to(&self, dev: &str, peer: &NetNs, peer_dev: &str) {
        self.try_veth_to(dev, peer, peer_dev)
            .unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// Turns off the offloads of `dev` (checksums final on the wire, no GSO/GRO), as the
    /// conformance captures were made. Best effort: a device without them is left as it is.
    pub fn offloads_off(&self, dev: &str) {
        let _ = self
            .cmd("ethtool")
            .args([
                "-K", dev, "tx", "off", "tso", "off", "gso", "off", "gro", "off",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Three namespaces in a line, the middle one routing: `client` 10.78.0.1 on `c-r`,
/// `router` 10.78.0.2 on `r-c` and 10.78.1.1 on `r-s`, `server` 10.78.1.2 on `s-r`. Offloads
/// off as in [`VethPair`].
pub struct Routed {
    pub client: NetNs,
    pub router: NetNs,
    pub server: NetNs,
}

impl Routed {
    pub fn new(tag: &str) -> Routed {
        let client = NetNs::new(&format!("{tag}c"));
        let router = NetNs::new(&format!("{tag}r"));
        let server = NetNs::new(&format!("{tag}s"));
        client.veth_to("c-r", &router, "r-c");
        server.veth_to("s-r", &router, "r-s");
        for (ns, dev, addr) in [
            (&client, "c-r", "10.78.0.1/24"),
            (&router, "r-c", "10.78.0.2/24"),
            (&router, "r-s", "10.78.1.1/24"),
            (&server, "s-r", "10.78.1.2/24"),
        ] {
            ns.ip(&["addr", "add", addr, "dev", dev]);
            ns.ip(&["link", "set", dev, "up"]);
            ns.offloads_off(dev);
        }
        client.ip(&["route", "add", "default", "via", "10.78.0.2"]);
        server.ip(&["route", "add", "default", "via", "10.78.1.1"]);
        router.sh("sysctl -qw net.ipv4.ip_forward=1");
        Routed {
            client,
            router,
            server,
        }
    }
}

/// Two namespaces joined by a veth pair, MTU 1500, with offloads off so checksums are
/// final on the wire (like the conformance captures): `a` is 10.77.0.1/fd77::1 on `veth-a`,
/// `b` is 10.77.0.2/fd77::2 on `veth-b`.
pub struct VethPair {
    pub a: NetNs,
    pub b: NetNs,
}

impl VethPair {
    pub fn new(tag: &str) -> VethPair {
        let a = NetNs::new(&format!("{tag}a"));
        let b = NetNs::new(&format!("{tag}b"));
        a.veth_to("veth-a", &b, "veth-b");
        for (ns, dev, v4, v6, mac) in [
            (
                &a,
                "veth-a",
                "10.77.0.1/24",
                "fd77::1/64",
                "02:77:00:00:00:01",
            ),
            (
                &b,
                "veth-b",
                "10.77.0.2/24",
                "fd77::2/64",
                "02:77:00:00:00:02",
            ),
        ] {
            ns.ip(&["link", "set", dev, "address", mac]);
            ns.ip(&["addr", "add", v4, "dev", dev]);
            ns.ip(&["addr", "add", v6, "dev", dev, "nodad"]);
            ns.ip(&["link", "set", dev, "up"]);
            ns.offloads_off(dev);
        }
        // Neighbours known up front: no ARP/ND packets in the middle of a capture.
        for (ns, dev, addr, mac) in [
            (&a, "veth-a", "10.77.0.2", "02:77:00:00:00:02"),
            (&b, "veth-b", "10.77.0.1", "02:77:00:00:00:01"),
            (&a, "veth-a", "fd77::2", "02:77:00:00:00:02"),
            (&b, "veth-b", "fd77::1", "02:77:00:00:00:01"),
        ] {
            ns.ip(&["neigh", "add", addr, "lladdr", mac, "dev", dev]);
        }
        VethPair { a, b }
    }
}

/// Two namespaces joined by a layer-3 link: `tun0` in each (no Ethernet header, like
/// WireGuard or a VPN's tun), with a thread of this process carrying packets between the two
/// devices. `a` is 10.79.0.1/fd79::1, `b` is 10.79.0.2/fd79::2. The devices live as long as
/// the thread holds them: dropping stops it, then deletes the namespaces.
pub struct TunPair {
    pub a: NetNs,
    pub b: NetNs,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    wire: Option<thread::JoinHandle<()>>,
}

impl TunPair {
    pub fn new(tag: &str) -> TunPair {
        use std::sync::{atomic::AtomicBool, Arc};
        let a = NetNs::new(&format!("{tag}a"));
        let b = NetNs::new(&format!("{tag}b"));
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = mpsc::channel();
        let names = [a.name.clone(), b.name.clone()];
        let flag = stop.clone();
        let wire = thread::spawn(move || {
            // setns(2) moves only this thread: each tun device is made in its namespace.
            let opened: Result<Vec<std::fs::File>, String> =
                names.iter().map(|ns| open_tun_in(ns)).collect();
            let tuns = match opened {
                Ok(t) => {
                    let _ = ready_tx.send(Ok(()));
                    t
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            tun_wire(&tuns, &flag);
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("tun wire thread")
            .unwrap_or_else(|e| panic!("tun devices: {e}"));
        for (ns, v4, peer4, v6) in [
            (&a, "10.79.0.1/32", "10.79.0.2/32", "fd79::1/64"),
            (&b, "10.79.0.2/32", "10.79.0.1/32", "fd79::2/64"),
        ] {
            ns.ip(&["addr", "add", v4, "peer", peer4, "dev", "tun0"]);
            // IPv6: an on-link prefix (a `peer` address gets no route to the peer).
            ns.ip(&["addr", "add", v6, "dev", "tun0", "nodad"]);
            ns.ip(&["link", "set", "tun0", "up"]);
        }
        TunPair {
            a,
            b,
            stop,
            wire: Some(wire),
        }
    }
}

impl Drop for TunPair {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(w) = self.wire.take() {
            let _ = w.join();
        }
    }
}

/// Opens /dev/net/tun in namespace `ns` as `tun0` (IFF_TUN | IFF_NO_PI). Moves the calling
/// thread into `ns`.
fn open_tun_in(ns: &str) -> Result<std::fs::File, String> {
    use std::os::fd::AsRawFd;
    const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
    let nsf = std::fs::File::open(format!("/run/netns/{ns}")).map_err(|e| format!("{ns}: {e}"))?;
    // SAFETY: setns on a namespace fd we hold; affects this thread only.
    if unsafe { libc::setns(nsf.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(format!("setns {ns}: {}", std::io::Error::last_os_error()));
    }
    let tun = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
        .map_err(|e| format!("/dev/net/tun: {e}"))?;
    let mut ifr = [0u8; 40];
    ifr[..4].copy_from_slice(b"tun0");
    ifr[16..18].copy_from_slice(&((libc::IFF_TUN | libc::IFF_NO_PI) as u16).to_ne_bytes());
    // SAFETY: TUNSETIFF reads and writes a struct ifreq, which ifr is large enough for.
    if unsafe { libc::ioctl(tun.as_raw_fd(), TUNSETIFF, ifr.as_mut_ptr()) } != 0 {
        return Err(format!("TUNSETIFF: {}", std::io::Error::last_os_error()));
    }
    Ok(tun)
}

/// Copies every packet read from one tun device to the other until `stop`.
fn tun_wire(tuns: &[std::fs::File], stop: &std::sync::atomic::AtomicBool) {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        let mut fds = [
            libc::pollfd {
                fd: tuns[0].as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: tuns[1].as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: poll on two valid pollfds.
        if unsafe { libc::poll(fds.as_mut_ptr(), 2, 50) } <= 0 {
            continue;
        }
        for (i, f) in fds.iter().enumerate() {
            if f.revents & libc::POLLIN != 0 {
                if let Ok(n) = (&tuns[i]).read(&mut buf) {
                    let _ = (&tuns[1 - i]).write(&buf[..n]);
                }
            }
        }
    }
}

/// Waits (bounded: 5 s, without sending a packet) until a TCP socket in `ns` listens on
/// `port`.
pub fn try_wait_listening(ns: &NetNs, port: u16) -> Result<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let ss = ns
            .cmd("ss")
            .args(["-Hltn", &format!("sport = :{port}")])
            .output()
            .context("cannot run ss")?;
        if !ss.stdout.is_empty() {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            bail!("nothing listens on port {port} in {} within 5 s", ns.name);
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// [`try_wait_listening`], panicking.
pub fn wait_listening(ns: &NetNs, port: u16) {
    try_wait_listening(ns, port).unwrap_or_else(|e| panic!("{e:#}"))
}
