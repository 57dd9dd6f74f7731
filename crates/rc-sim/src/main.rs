//! `rc-sim`: runs the simulated RingCentral service on loopback until interrupted.
//!
//! Usage: `rc-sim [--config FILE] [--port N] [--backup-port N] [--rest-port N] [--admin-port N]
//! [--out DIR] [--cert PEM --key PEM]`. Without `--cert`/`--key`, a CA and a certificate for 127.0.0.1 are made.
//! Prints one JSON line with the addresses (`restUrl`: the REST API's base URL), the CA file and
//! every extension's sipInfo; with
//! `--out`, also writes `ca.pem` and `sipinfo-<number>.json` there.

use rc_sim::{Config, ServerOptions};
use std::path::PathBuf;
use std::process::ExitCode;

struct Args {
    config: Option<PathBuf>,
    port: u16,
    backup_port: u16,
    rest_port: u16,
    admin_port: Option<u16>,
    out: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { config: None, port: 0, backup_port: 0, rest_port: 0, admin_port: None, out: None, cert: None, key: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--config" => args.config = Some(value()?.into()),
            "--port" => args.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--backup-port" => args.backup_port = value()?.parse().map_err(|e| format!("--backup-port: {e}"))?,
            "--rest-port" => args.rest_port = value()?.parse().map_err(|e| format!("--rest-port: {e}"))?,
            "--out" => args.out = Some(value()?.into()),
            "--cert" => args.cert = Some(value()?.into()),
            "--key" => args.key = Some(value()?.into()),
            "--admin-port" => args.admin_port = Some(value()?.parse().map_err(|e| format!("--admin-port: {e}"))?),
            "-h" | "--help" => return Err("usage: rc-sim [--config FILE] [--port N] [--backup-port N] [--rest-port N] [--admin-port N] [--out DIR] [--cert PEM --key PEM]".into()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rc-sim: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let args = parse_args()?;
    let config = match &args.config {
        Some(path) => Config::load(path).map_err(|e| e.to_string())?,
        None => Config::demo(),
    };
    let mut opts = ServerOptions::loopback(config);
    opts.port = args.port;
    opts.backup_port = args.backup_port;
    opts.rest_port = args.rest_port;
    opts.tls = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => Some(rc_sim::tls::TlsMaterial::load(cert, key).map_err(|e| e.to_string())?),
        (None, None) => None,
        _ => return Err("--cert and --key go together".into()),
    };
    let handle = rc_sim::start(opts).await.map_err(|e| e.to_string())?;
    let admin = match args.admin_port {
        Some(port) => Some(rc_sim::admin::start(([127, 0, 0, 1], port).into(), handle.clone()).await.map_err(|e| format!("admin API: {e}"))?),
        None => None,
    };
    let infos: Vec<_> = handle.config().extensions.iter().filter_map(|e| handle.sip_info(&e.number)).collect();
    let mut ca_file = None;
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, &handle.ca_pem).map_err(|e| format!("{}: {e}", ca.display()))?;
        for info in &infos {
            let path = dir.join(format!("sipinfo-{}.json", info.username));
            let json = serde_json::to_string_pretty(info).map_err(|e| e.to_string())?;
            std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        ca_file = Some(ca.display().to_string());
    }
    let summary = serde_json::json!({
        "outboundProxy": handle.primary.to_string(),
        "outboundProxyBackup": handle.backup.to_string(),
        "caFile": ca_file,
        "admin": admin.map(|a| a.to_string()),
        "restUrl": handle.rest_url(),
        "caPem": handle.ca_pem,
        "sipInfo": infos,
    });
    println!("{summary}");
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    handle.shutdown();
    Ok(())
}
