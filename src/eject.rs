//! Ejecting a card once it is safe to erase: finds the block device a card is mounted from
//! (`/proc/self/mountinfo` on Linux) and builds the OS's own eject commands — `udisksctl
//! unmount -b DEV` then `udisksctl power-off -b DEV` (Linux), `diskutil eject MOUNT` (macOS), the
//! Shell's "Eject" verb through PowerShell (Windows). Running them blocks: callers run
//! [`run`] on a worker thread, never on the UI thread.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum EjectError {
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{command} failed ({status}): {stderr}")]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
}

/// Where a card is mounted from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mounted {
    /// The block device (`/dev/sdb1`), or the mount's source as the OS names it.
    pub device: String,
    /// The mount point holding the card.
    pub mount_point: PathBuf,
}

/// The operating systems with an eject command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Linux,
    MacOs,
    Windows,
}

impl Os {
    /// The OS this build runs on (`None`: no known eject command).
    pub fn current() -> Option<Os> {
        if cfg!(target_os = "linux") {
            Some(Os::Linux)
        } else if cfg!(target_os = "macos") {
            Some(Os::MacOs)
        } else if cfg!(windows) {
            Some(Os::Windows)
        } else {
            None
        }
    }
}

/// Undoes mountinfo's octal escapes (`\040` is a space).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && let Some(octal) = field.get(i + 1..i + 4)
            && let Ok(v) = u8::from_str_radix(octal, 8)
        {
            out.push(v);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mount holding `path` (the longest mount point it lies under) in the text of a
/// `/proc/self/mountinfo`, when its source is a block device (`/dev/…`): tmpfs, overlay and
/// network mounts are nothing to eject.
pub fn device_for(mountinfo: &str, path: &Path) -> Option<Mounted> {
    let mut best: Option<Mounted> = None;
    for line in mountinfo.lines() {
        // `36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue`
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let Some(mount_point) = left.split(' ').nth(4).map(unescape) else {
            continue;
        };
        let Some(source) = right.split(' ').nth(1).map(unescape) else {
            continue;
        };
        let mount_point = PathBuf::from(mount_point);
        if !path.starts_with(&mount_point) {
            continue;
        }
        let longer = best
            .as_ref()
            .is_none_or(|b| mount_point.as_os_str().len() >= b.mount_point.as_os_str().len());
        if longer {
            best = Some(Mounted {
                device: source,
                mount_point,
            });
        }
    }
    // The root file system is the system disk, never a card to eject.
    best.filter(|m| m.device.starts_with("/dev/") && m.mount_point != Path::new("/"))
}

/// Whether a Linux mount is a removable one: mounted by udisks under /media or /run/media, or a
/// device the kernel flags removable (sysfs). A card copied to an internal disk is no card.
fn removable_linux(m: &Mounted) -> bool {
    if m.mount_point.starts_with("/media") || m.mount_point.starts_with("/run/media") {
        return true;
    }
    let Some(name) = Path::new(&m.device).file_name() else {
        return false;
    };
    let sys = Path::new("/sys/class/block").join(name);
    // A partition's `removable` flag is on its disk (the parent directory).
    let flag = |dir: &Path| std::fs::read_to_string(dir.join("removable")).ok();
    let real = std::fs::canonicalize(&sys).unwrap_or(sys);
    flag(&real)
        .or_else(|| real.parent().and_then(flag))
        .is_some_and(|v| v.trim() == "1")
}

/// The card's mount on this machine (Linux: from `/proc/self/mountinfo`; elsewhere the card's
/// own folder stands for its volume). Reads a file: call it off the UI thread.
pub fn find(card_root: &Path, os: Os) -> Option<Mounted> {
    match os {
        Os::Linux => {
            let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
            device_for(&text, card_root).filter(removable_linux)
        }
        Os::MacOs => {
            // Cards mount under /Volumes/NAME: diskutil ejects by mount point.
            let mut parts = card_root.components();
            let (_, volumes, name) = (parts.next()?, parts.next()?, parts.next()?);
            (volumes.as_os_str() == "Volumes").then(|| {
                let mount = Path::new("/Volumes").join(name.as_os_str());
                Mounted {
                    device: mount.display().to_string(),
                    mount_point: mount,
                }
            })
        }
        Os::Windows => {
            // A drive letter: `E:\` → `E:`.
            let s = card_root.to_string_lossy();
            let drive = s.get(..2).filter(|d| d.ends_with(':'))?.to_owned();
            Some(Mounted {
                device: drive.clone(),
                mount_point: PathBuf::from(format!("{drive}\\")),
            })
        }
    }
}

/// The commands that unmount and power off (or eject) `m`, in order.
pub fn commands(os: Os, m: &Mounted) -> Vec<Vec<String>> {
    let v = |args: &[&str]| args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
    match os {
        Os::Linux => vec![
            v(&["udisksctl", "unmount", "-b", &m.device]),
            v(&["udisksctl", "power-off", "-b", &m.device]),
        ],
        Os::MacOs => vec![v(&["diskutil", "eject", &m.mount_point.to_string_lossy()])],
        Os::Windows => {
            // Explorer's "Eject" on the drive (no admin rights needed, unlike mountvol /p).
            let drive = m.device.replace('\'', "");
            vec![v(&[
                "powershell",
                "-NoProfile",
                "-Command",
                &format!(
                    "(New-Object -ComObject Shell.Application).Namespace(17).ParseName('{drive}').InvokeVerb('Eject')"
                ),
            ])]
        }
    }
}

/// Runs `commands` one after the other, stopping at the first failure. Blocks.
pub fn run(commands: &[Vec<String>]) -> Result<(), EjectError> {
    for argv in commands {
        let Some((program, args)) = argv.split_first() else {
            continue;
        };
        let out = Command::new(program)
            .args(args)
            .output()
            .map_err(|source| EjectError::Spawn {
                program: program.clone(),
                source,
            })?;
        if !out.status.success() {
            return Err(EjectError::Failed {
                command: argv.join(" "),
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw
30 22 0:25 / /tmp rw,nosuid shared:5 - tmpfs tmpfs rw
41 22 8:17 / /media/op/NO\\040NAME rw,nosuid,nodev,relatime shared:300 - exfat /dev/sdb1 rw,uid=1000
42 41 0:40 / /media/op/NO\\040NAME/inner rw - tmpfs tmpfs rw
";

    #[test]
    fn the_device_is_the_longest_mount_holding_the_card() {
        let m = device_for(MOUNTINFO, Path::new("/media/op/NO NAME/CONTENTS")).expect("mount");
        assert_eq!(m.device, "/dev/sdb1");
        assert_eq!(m.mount_point, PathBuf::from("/media/op/NO NAME"));
        // A card under /home lies on the root file system: the system disk is never offered.
        assert_eq!(device_for(MOUNTINFO, Path::new("/home/op/card")), None);
        // tmpfs is nothing to eject.
        assert_eq!(device_for(MOUNTINFO, Path::new("/tmp/cards/A")), None);
        assert_eq!(
            device_for(MOUNTINFO, Path::new("/media/op/NO NAME/inner/x")),
            None
        );
    }

    #[test]
    fn eject_commands_per_os() {
        let m = Mounted {
            device: "/dev/sdb1".into(),
            mount_point: "/media/op/NO NAME".into(),
        };
        assert_eq!(
            commands(Os::Linux, &m),
            [
                ["udisksctl", "unmount", "-b", "/dev/sdb1"],
                ["udisksctl", "power-off", "-b", "/dev/sdb1"]
            ]
        );
        let mac = Mounted {
            device: "/Volumes/A001".into(),
            mount_point: "/Volumes/A001".into(),
        };
        assert_eq!(
            commands(Os::MacOs, &mac),
            [["diskutil", "eject", "/Volumes/A001"]]
        );
        let win = commands(
            Os::Windows,
            &Mounted {
                device: "E:".into(),
                mount_point: "E:\\".into(),
            },
        );
        assert_eq!(win.len(), 1);
        assert_eq!(win[0][0], "powershell");
        assert!(
            win[0][3].contains("ParseName('E:').InvokeVerb('Eject')"),
            "{:?}",
            win[0]
        );
    }

    #[test]
    fn find_on_macos_and_windows_uses_the_volume() {
        assert_eq!(
            find(Path::new("/Volumes/A001/XDROOT"), Os::MacOs).map(|m| m.mount_point),
            Some(PathBuf::from("/Volumes/A001"))
        );
        assert_eq!(find(Path::new("/Users/op/card"), Os::MacOs), None);
        assert_eq!(
            find(Path::new("E:\\DCIM"), Os::Windows).map(|m| m.device),
            Some("E:".to_owned())
        );
    }

    #[test]
    fn a_failing_command_says_which_and_why() {
        let err = run(&[vec![
            "sh".into(),
            "-c".into(),
            "echo busy >&2; exit 3".into(),
        ]])
        .expect_err("fails");
        let text = err.to_string();
        assert!(text.contains("sh -c") && text.contains("busy"), "{text}");
        assert!(matches!(
            run(&[vec!["/nonexistent/udisksctl".into()]]),
            Err(EjectError::Spawn { .. })
        ));
    }
}
