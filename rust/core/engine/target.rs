// SPDX-License-Identifier: GPL-2.0

//! What may be written to the `target` debugfs file, parsed strictly.
//!
//! Accepted, with at most one trailing newline and nothing else:
//! * `PID` (decimal, 1 to `pid_max - 1`): mirror that process;
//! * `follow PID`: mirror PID, and switch to each child it forks;
//! * `none` or `0`: stop mirroring.
//!
//! Everything else is rejected whole, so a bad write changes nothing:
//! empty input, signs, spaces inside or around the number, leading `+`,
//! hex, trailing junk, numbers at or above `pid_max` (the kernel's current
//! limit) and numbers that overflow.

/// A parsed `target` write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetCmd {
    /// Stop mirroring.
    Detach,
    /// Mirror this process id (a thread id resolves to its process later).
    Single(u32),
    /// Mirror this process id and follow it into each child it forks.
    Follow(u32),
}

/// Why a `target` write was rejected (the caller maps both to `EINVAL`;
/// an unknown pid is `ESRCH`, decided later by the kernel side).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetParseError {
    /// Not of the accepted forms.
    Malformed,
    /// A pid of 0 in `follow`, or at or above `pid_max`.
    OutOfRange,
}

/// Longest write worth parsing: `follow ` plus a 10-digit pid and `\n`.
pub const TARGET_MAX_LEN: usize = 18;

/// Parses a decimal pid: digits only, no sign, no leading zeros except "0".
fn parse_pid(s: &[u8], pid_max: u32) -> Result<u32, TargetParseError> {
    if s.is_empty() || s.len() > 10 || (s.len() > 1 && s[0] == b'0') {
        return Err(TargetParseError::Malformed);
    }
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return Err(TargetParseError::Malformed);
        }
        v = v * 10 + u64::from(c - b'0');
    }
    if v >= u64::from(pid_max) {
        return Err(TargetParseError::OutOfRange);
    }
    // v < pid_max <= u32::MAX.
    Ok(v as u32)
}

/// Parses one write to `target`; `pid_max` is the kernel's current limit.
pub fn parse_target(input: &[u8], pid_max: u32) -> Result<TargetCmd, TargetParseError> {
    if input.len() > TARGET_MAX_LEN {
        return Err(TargetParseError::Malformed);
    }
    let s = input.strip_suffix(b"\n").unwrap_or(input);
    if s == b"none" {
        return Ok(TargetCmd::Detach);
    }
    if let Some(rest) = s.strip_prefix(b"follow ") {
        return match parse_pid(rest, pid_max)? {
            0 => Err(TargetParseError::OutOfRange),
            pid => Ok(TargetCmd::Follow(pid)),
        };
    }
    match parse_pid(s, pid_max)? {
        0 => Ok(TargetCmd::Detach),
        pid => Ok(TargetCmd::Single(pid)),
    }
}
