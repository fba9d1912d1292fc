//! The lines of a synthetic evm.log: the memory lines the tool reads, in the
//! shapes of LOG-FORMATS.md, and noise lines of every other shape it must pass over.

use std::io::{self, Write};

use super::rng::Rng;
use super::spec::MessageKind;
use super::{push_datetime, SECOND};
use crate::parse::time::push_digits;

const VMWARE: &str = "ManageIQ::Providers::Vmware::InfraManager";

#[derive(Clone, Copy)]
enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

/// `[----] I, [2017-03-01T00:00:06.137911 #63119:26ae0d37]  INFO -- : `
fn header(out: &mut Vec<u8>, rng: &mut Rng, local_us: i64, pid: u32, tid: u32, level: Level) {
    let (letter, word) = match level {
        Level::Debug => (b'D', "DEBUG"),
        Level::Info => (b'I', " INFO"),
        Level::Warn => (b'W', " WARN"),
        Level::Error => (b'E', "ERROR"),
    };
    out.extend_from_slice(b"[----] ");
    out.push(letter);
    out.extend_from_slice(b", [");
    push_datetime(out, local_us, b'T');
    out.push(b'.');
    push_digits(out, local_us.rem_euclid(SECOND) as u64, 6);
    // Some versions print no space before the pid.
    if !rng.chance(0.03) {
        out.push(b' ');
    }
    let _ = write!(out, "#{pid}:{tid:x}] {word} -- ");
    if matches!(level, Level::Debug) {
        out.extend_from_slice(b"evm");
    }
    out.extend_from_slice(b": ");
}

fn q_task(out: &mut Vec<u8>, rng: &mut Rng, id: u64, method: &str) {
    if rng.chance(0.4) {
        let _ = write!(out, "Q-task_id([r{}_{method}]) ", id % 100_000);
    }
}

fn guid(out: &mut Vec<u8>, rng: &mut Rng, pid: u32) {
    let a = rng.next_u64();
    let _ = write!(
        out,
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012}",
        a as u32,
        (a >> 32) as u16,
        (a >> 48) as u16,
        rng.below(1 << 16),
        pid
    );
}

fn utc_text(out: &mut Vec<u8>, utc_us: i64) {
    push_datetime(out, utc_us, b' ');
}

/// A patched worker's sample: `MIQ(X::Runner#do_work) Memory Info XXXX (<msg>) => {...}`.
#[allow(clippy::too_many_arguments)]
pub fn memory_info_line(
    out: &mut Vec<u8>,
    rng: &mut Rng,
    local_us: i64,
    utc_us: i64,
    pid: u32,
    tid: u32,
    runner: &str,
    kind: Option<&MessageKind>,
    msg_id: u64,
    [live, old, rss, pss]: [i64; 4],
) {
    header(out, rng, local_us, pid, tid, Level::Info);
    let method = kind.map_or("do_work", |k| k.method_name.as_str());
    q_task(out, rng, msg_id, method);
    let _ = write!(out, "MIQ({runner}#do_work) Memory Info XXXX (");
    match kind {
        None => out.extend_from_slice(b"nil"),
        Some(k) => {
            let args: &str = match rng.below(4) {
                0 => "[]",
                1 => "[\"realtime\", \"2017-03-01T00:09:00Z\", \"2017-03-01T00:19:00Z\"]",
                2 => "[[{\"id\"=>94, \"name\"=>\"vm (prod) => {x}\"}]]",
                _ => "[\"retried (2) => {resumed}\", 1000000000042]",
            };
            let iid = 1 + rng.below(400);
            let (c, m) = (&k.class_name, &k.method_name);
            match rng.below(3) {
                0 => {
                    let _ = write!(
                        out,
                        "#<MiqQueue id: {msg_id}, target_id: nil, priority: 100, method_name: \"{m}\", args: {args}, task_id: nil, created_on: \""
                    );
                    utc_text(out, utc_us - rng.range(1, 90) * SECOND);
                    let _ = write!(
                        out,
                        "\", state: \"dequeue\", zone: \"default\", role: \"ems_metrics_processor\", class_name: \"{c}\", instance_id: {iid}>"
                    );
                }
                1 => {
                    let _ = write!(
                        out,
                        "#<MiqQueue instance_id: {iid}, class_name: \"{c}\", target_id: nil, task_id: \"perf_{msg_id}\", id: {msg_id}, method_name: \"{m}\", priority: 20, args: {args}, miq_callback: {{:class_name=>\"MiqTask\", :method_name=>:queue_callback, :args=>[\"Finished\"]}}, state: \"dequeue\", zone: \"default\">"
                    );
                }
                _ => {
                    let _ = write!(
                        out,
                        "#<MiqQueue id: {msg_id}, priority: 100, method_name: \"{m}\", args: {args}, miq_callback: nil, data: nil, task_id: nil, state: \"dequeue\", zone: \"default\", role: nil, server_guid: nil, msg_timeout: 600, handler_id: nil, handler_type: nil, class_name: \"{c}\", instance_id: {iid}>"
                    );
                }
            }
        }
    }
    let _ = writeln!(
        out,
        ") => {{Live: {live}, Old: {old}, RSS: {rss}, PSS: {pss}}}"
    );
}

/// The server's own `log_status`: lower-case `Process info:`, its pid in the header.
pub fn server_status_line(
    out: &mut Vec<u8>,
    rng: &mut Rng,
    local_us: i64,
    pid: u32,
    tid: u32,
    rss: i64,
) {
    header(out, rng, local_us, pid, tid, Level::Info);
    let _ = writeln!(
        out,
        "MIQ(MiqServer#log_status) [EVM Server ({pid})] Process info: Memory Usage [{rss}], Memory Size [{}], Proportional Set Size: [{}], Unique Set Size: [{}], Memory % [4.73], CPU Time [{}.{}], CPU % [1.07], Priority [0]",
        rss / 10 * 23,
        rss / 100 * 71,
        rss / 100 * 60,
        rng.below(90_000),
        rng.below(10),
    );
}

/// A worker's status as the server logs it: the sample belongs to `PID [..]`.
#[allow(clippy::too_many_arguments)]
pub fn worker_status_line(
    out: &mut Vec<u8>,
    rng: &mut Rng,
    local_us: i64,
    server_pid: u32,
    server_tid: u32,
    class: &str,
    worker_id: u64,
    pid: u32,
    heartbeat_utc_us: i64,
    rss: i64,
) {
    header(out, rng, local_us, server_pid, server_tid, Level::Info);
    let _ = write!(
        out,
        "Q-task_id([log_status]) MIQ({class}#log_status) [{}] Worker ID [{worker_id}], PID [{pid}], GUID [",
        display_name(class)
    );
    guid(out, rng, pid);
    out.extend_from_slice(b"], Last Heartbeat [");
    utc_text(out, heartbeat_utc_us);
    let _ = writeln!(
        out,
        " UTC], Process Info: Memory Usage [{rss}], Memory Size [{}], Proportional Set Size: [{}], Unique Set Size: [{}], Memory % [3.01], CPU Time [{}.0], CPU % [0.09], Priority [27]",
        rss / 10 * 23 + 200 * 1024 * 1024,
        rss / 100 * 72,
        rss / 100 * 62,
        rng.below(50_000),
    );
}

fn display_name(class: &str) -> String {
    let last = class.rsplit("::").next().unwrap_or(class);
    let last = last.strip_prefix("Miq").unwrap_or(last);
    let mut out = String::new();
    for (i, c) in last.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[allow(clippy::too_many_arguments)]
pub fn exceeded_line(
    out: &mut Vec<u8>,
    rng: &mut Rng,
    local_us: i64,
    server_pid: u32,
    server_tid: u32,
    class: &str,
    worker_id: u64,
    pid: u32,
    usage: i64,
    limit: i64,
) {
    header(out, rng, local_us, server_pid, server_tid, Level::Warn);
    let sep = if rng.chance(0.3) { '.' } else { '#' };
    let _ = write!(
        out,
        "MIQ(MiqServer{sep}validate_worker) Worker [{class}] with ID: [{worker_id}], PID: [{pid}], GUID: ["
    );
    guid(out, rng, pid);
    let _ = writeln!(
        out,
        "] process memory usage [{usage}] exceeded limit [{limit}], requesting worker to exit"
    );
}

/// The queue message the server puts milliseconds after a real restart for
/// memory: it quotes the event's words inside `Args`, and is not an event.
#[allow(clippy::too_many_arguments)]
pub fn exceeded_put_line(
    out: &mut Vec<u8>,
    rng: &mut Rng,
    local_us: i64,
    server_pid: u32,
    server_tid: u32,
    class: &str,
    worker_id: u64,
    pid: u32,
    usage: i64,
    limit: i64,
) {
    header(out, rng, local_us, server_pid, server_tid, Level::Info);
    let id = 1_000_000 + rng.below(9_000_000);
    let _ = writeln!(
        out,
        "MIQ(MiqQueue.put) Message id: [{id}],  id: [], Zone: [default], Role: [], Server: [], MiqTask id: [], Ident: [generic], Target id: [], Instance id: [], Task id: [], Command: [MiqEvent.raise_evm_event], Timeout: [600], Priority: [100], State: [ready], Deliver On: [], Data: [], Args: [[\"MiqServer\", 1], \"evm_worker_memory_exceeded\", {{:event_details=>\"Worker [{class}] with ID: [{worker_id}], PID: [{pid}], GUID: [] process memory usage [{usage}] exceeded limit [{limit}], requesting worker to exit\", :type=>\"{class}\"}}]"
    );
}

pub fn started_line(
    out: &mut Vec<u8>,
    local_us: i64,
    server_pid: u32,
    server_tid: u32,
    class: &str,
    worker_id: u64,
    pid: u32,
) {
    // The header never drops its space here: no randomness, so restarts do not
    // shift the rest of the stream.
    let mut fixed = Rng::new(pid as u64);
    header(
        out,
        &mut fixed,
        local_us,
        server_pid,
        server_tid,
        Level::Info,
    );
    let _ = write!(
        out,
        "MIQ({class}.start_worker) Worker started: ID [{worker_id}], PID [{pid}], GUID ["
    );
    guid(out, &mut fixed, pid);
    out.extend_from_slice(b"]\n");
}

/// `ObjectSpace.dump_all` output: one JSON object per line.
pub fn heap_dump(out: &mut Vec<u8>, rng: &mut Rng, objects: u64) {
    let _ = writeln!(
        out,
        "{{\"type\":\"ROOT\", \"root\":\"vm\", \"references\":[\"0x{:012x}\", \"0x{:012x}\"]}}",
        rng.below(1 << 44),
        rng.below(1 << 44)
    );
    for _ in 0..objects {
        let _ = writeln!(
            out,
            "{{\"address\":\"0x{:012x}\", \"type\":\"STRING\", \"class\":\"0x{:012x}\", \"bytesize\":{}, \"file\":\"/var/www/miq/vmdb/app/models/miq_queue.rb\", \"line\":{}, \"method\":\"deliver\", \"generation\":{}, \"memsize\":{}, \"flags\":{{\"wb_protected\":true}}}}",
            rng.below(1 << 44),
            rng.below(1 << 44),
            rng.below(200),
            rng.below(500),
            rng.below(90_000),
            40 * (1 + rng.below(30)),
        );
    }
}

/// Noise: every other line an appliance writes.
pub struct Noise {
    rng: Rng,
    /// Inventory-like text that long lines are cut from.
    filler: Vec<u8>,
}

const HOSTS: [&str; 6] = [
    "win2012-ad",
    "jenkins-slave-3",
    "vm-cache09",
    "esx-07.lab",
    "db-prod (primary)",
    "web-42",
];

const BACKTRACE: [&str; 8] = [
    "/var/www/miq/vmdb/app/models/miq_queue.rb:347:in `block in deliver'",
    "/opt/rh/rh-ruby23/root/usr/share/ruby/timeout.rb:91:in `block in timeout'",
    "/var/www/miq/vmdb/app/models/miq_queue.rb:343:in `deliver'",
    "/var/www/miq/vmdb/app/models/miq_queue_worker_base/runner.rb:106:in `deliver_queue_message'",
    "/var/www/miq/vmdb/app/models/miq_queue_worker_base/runner.rb:134:in `deliver_message'",
    "/var/www/miq/vmdb/app/models/miq_worker/runner.rb:334:in `block in do_work_loop'",
    "/var/www/miq/vmdb/app/models/miq_worker/runner.rb:331:in `loop'",
    "/var/www/miq/vmdb/lib/workers/bin/run_single_worker.rb:114:in `<main>'",
];

impl Noise {
    pub fn new(mut rng: Rng) -> Noise {
        let mut filler = Vec::with_capacity(300 << 10);
        while filler.len() < 256 << 10 {
            let id = 1_000_000_000_000 + rng.below(100_000);
            let _ = write!(
                filler,
                "{{\"id\"=>{id}, \"name\"=>\"vm-{:04}\", \"uid_ems\"=>\"42{:06x}-{:04x}-{:04x}\", \"power_state\"=>\"{}\", \"cpu_total_cores\"=>{}, \"ram_size\"=>{}, \"host\"=>{{\"ems_ref\"=>\"host-{}\", \"name\"=>\"{}\"}}, \"disks\"=>[{{\"size\"=>{}, \"filename\"=>\"[datastore{}] vm-{:04}/disk.vmdk\"}}]}}, ",
                rng.below(10_000),
                rng.below(1 << 24),
                rng.below(1 << 16),
                rng.below(1 << 16),
                if rng.chance(0.8) { "on" } else { "off" },
                1 << rng.below(4),
                1024 << rng.below(5),
                rng.below(300),
                rng.pick(&HOSTS),
                rng.below(1 << 36),
                rng.below(12),
                rng.below(10_000),
            );
        }
        Noise { rng, filler }
    }

    /// A length for a long line: log-uniform from 10 KB to `max`.
    pub fn long_len(&mut self, max: u64) -> u64 {
        let (lo, hi) = (10_000f64.ln(), (max.max(10_001) as f64).ln());
        (lo + (hi - lo) * self.rng.unit()).exp() as u64
    }

    /// One noise line (or an error with its backtrace) into `out`.
    pub fn line(&mut self, out: &mut Vec<u8>, local_us: i64, pid: u32, tid: u32) {
        let rng = &mut self.rng;
        let id = 1_000_000_000_000 + rng.below(100_000_000);
        let pick = rng.below(100);
        let level = match pick {
            0..=4 => Level::Debug,
            5..=89 => Level::Info,
            90..=95 => Level::Warn,
            _ => Level::Error,
        };
        header(out, rng, local_us, pid, tid, level);
        match pick {
            0..=4 => {
                let _ = writeln!(
                    out,
                    "MIQ(MiqServer#sync_needed?) Config change detected: [false]"
                );
            }
            5..=24 => {
                q_task(out, rng, id, "perf_process");
                let _ = writeln!(
                    out,
                    "MIQ(MiqQueue#deliver) Message id: [{id}], Delivering..."
                );
            }
            25..=44 => {
                q_task(out, rng, id, "perf_capture_realtime");
                let _ = writeln!(
                    out,
                    "MIQ(MiqQueue#delivered) Message id: [{id}], State: [ok], Delivered in [{}.{:06}] seconds",
                    rng.below(5),
                    rng.below(1_000_000)
                );
            }
            45..=54 => {
                let _ = writeln!(
                    out,
                    "MIQ(MiqQueue.put) Message id: [{id}],  id: [], Zone: [default], Role: [ems_metrics_collector], Server: [], MiqTask id: [], Ident: [ems_metrics_collector], Target id: [], Instance id: [{}], Task id: [], Command: [{VMWARE}::Vm.perf_capture_realtime], Timeout: [600], Priority: [100], State: [ready], Deliver On: [], Data: [], Args: []",
                    rng.below(400)
                );
            }
            55..=62 => {
                let _ = writeln!(
                    out,
                    "MIQ(MiqQueue.get_via_drb) Message id: [{id}], MiqWorker id: [1000000000069], Zone: [default], Role: [], Server: [], MiqTask id: [], Ident: [generic], Target id: [], Instance id: [], Task id: [], Command: [MiqReport.queue_generate_table], Timeout: [600], Priority: [100], State: [dequeue], Deliver On: [], Data: [], Args: [], Dequeued in: [{}.{:06}] seconds",
                    rng.below(3),
                    rng.below(1_000_000)
                );
            }
            63..=72 => {
                q_task(out, rng, id, "perf_process");
                let _ = writeln!(
                    out,
                    "MIQ({VMWARE}::Vm#perf_process) [realtime] Processing {} performance rows...Complete - Timings: {{:process_counter_values=>0.{:06}, :db_find_prev_perfs=>0.{:06}, :total_time=>{}.{:06}}}",
                    rng.below(400),
                    rng.below(1_000_000),
                    rng.below(1_000_000),
                    rng.below(4),
                    rng.below(1_000_000)
                );
            }
            73..=80 => {
                let _ = writeln!(
                    out,
                    "MIQ({VMWARE}::MetricsCapture#perf_collect_metrics) [realtime] for: [{VMWARE}::Host], [{}], [{}]...Complete - Timings: {{:capture_state=>0.{:06}, :total_time=>{}.{:06}}}",
                    rng.below(200),
                    rng.pick(&HOSTS),
                    rng.below(1_000_000),
                    rng.below(6),
                    rng.below(1_000_000)
                );
            }
            81..=84 => {
                let _ = writeln!(
                    out,
                    "MIQ(MiqServer#monitor_loop) Server Monitoring Complete - Timings: {{:server_dequeue=>0.{:06}, :worker_monitor=>0.{:06}, :total_time=>0.{:06}}}",
                    rng.below(1_000_000),
                    rng.below(1_000_000),
                    rng.below(1_000_000)
                );
            }
            88..=89 if rng.chance(0.05) => {
                // A multi-line dump whose continuation lines look like memory lines.
                let _ = writeln!(
                    out,
                    "MIQ(MiqWorker::Runner#dump_stats) Worker statistics follow:"
                );
                let _ = writeln!(
                    out,
                    "  last: Memory Info XXXX (nil) => {{Live: 1, Old: 1, RSS: 1, PSS: 1}}"
                );
                let _ = writeln!(out, "  was: process memory usage [1] exceeded limit [2]");
            }
            85..=89 => {
                // Mentions log_status but holds no memory values.
                let _ = writeln!(
                    out,
                    "Q-task_id([log_status]) MIQ(MiqServer#log_status) [EVM Server ({pid})] Worker Count: {}",
                    5 + rng.below(20)
                );
            }
            90..=92 => {
                let _ = writeln!(
                    out,
                    "MIQ(MiqServer#validate_worker) Worker [MiqGenericWorker] with ID: [1000000000069], PID: [{pid}], GUID: [8f61c8d8-c990-11e7-f24d-000000002931] process memory usage [{}] is approaching limit [524288000]",
                    400_000_000 + rng.below(100_000_000)
                );
            }
            93..=95 => {
                q_task(out, rng, id, "perf_process");
                let _ = writeln!(
                    out,
                    "MIQ(MiqQueue#deliver) Message id: [{id}], timed out after 600.{:05} seconds.  Timeout threshold [600]",
                    rng.below(100_000)
                );
            }
            _ => {
                let reason = *rng.pick(&[
                    "undefined method `[]' for nil:NilClass",
                    "NotAuthenticated: The session is not authenticated.",
                    "Couldn't find Storage with 'id'=1000000000084",
                ]);
                let _ = writeln!(
                    out,
                    "MIQ(MiqQueue#deliver) Message id: [{id}], Error: [{reason}]"
                );
                header(out, rng, local_us + 400, pid, tid, Level::Error);
                let _ = writeln!(out, "[NoMethodError]: {reason}  Method:[rescue in deliver]");
                let depth = 3 + rng.below(BACKTRACE.len() as u64 - 2) as usize;
                for frame in &BACKTRACE[..depth] {
                    out.extend_from_slice(frame.as_bytes());
                    out.push(b'\n');
                }
            }
        }
    }

    /// A noise line of `len` bytes (newline included): a refresh dumping its
    /// inventory on one line. Written in pieces through `write`, never held whole.
    pub fn long_line(
        &mut self,
        out: &mut Vec<u8>,
        local_us: i64,
        pid: u32,
        tid: u32,
        len: u64,
        mut write: impl FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        header(out, &mut self.rng, local_us, pid, tid, Level::Info);
        let _ = write!(
            out,
            "MIQ({VMWARE}::RefreshParser#vms_inv_to_hashes) EMS: [vc-{}], id: [1000000000001] Inventory: {{\"vms\"=>[",
            self.rng.below(20)
        );
        let mut left = len.saturating_sub(out.len() as u64 + 1);
        write(out)?;
        let mut at = self.rng.below(self.filler.len() as u64) as usize;
        while left > 0 {
            let n = (self.filler.len() - at).min(left as usize);
            write(&self.filler[at..at + n])?;
            left -= n as u64;
            at = 0;
        }
        write(b"\n")
    }
}
