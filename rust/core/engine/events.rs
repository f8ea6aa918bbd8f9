// SPDX-License-Identifier: GPL-2.0

//! A bounded log of the target's recent changes, for the `events` file.

/// What a change did to the shadow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventOp {
    /// A VMA was stored over a range (new, moved, expanded, shrunk or split).
    Store,
    /// A range was cleared (unmapped, or the VMA moved away).
    Clear,
    /// The mirror was rebuilt from a snapshot of the kernel's tree.
    Resync,
    /// The target's address space was torn down.
    Exit,
}

impl EventOp {
    /// The name the `events` file prints.
    pub fn name(self) -> &'static str {
        match self {
            EventOp::Store => "store",
            EventOp::Clear => "clear",
            EventOp::Resync => "resync",
            EventOp::Exit => "exit",
        }
    }
}

/// Whether the shadow took the change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Applied to the shadow.
    Applied,
    /// Could not be applied (node pool empty, lock busy): the mirror went
    /// stale and resyncs.
    Stale,
}

/// One logged change; `last` is inclusive, like the tree's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// Sequence number, from 1, over the life of the mirror.
    pub seq: u64,
    /// What happened.
    pub op: EventOp,
    /// First address of the range.
    pub first: usize,
    /// Last address of the range.
    pub last: usize,
    /// Whether the shadow took it.
    pub outcome: Outcome,
    /// What the change meant (the merge classifier's name for a store,
    /// e.g. `new_merge_prev`, `split`), and the system call it was made in;
    /// empty when not known.
    pub what: (&'static str, &'static str),
}

/// How many events are kept.
pub const EVENT_SLOTS: usize = 256;

/// The last [`EVENT_SLOTS`] events.
pub struct EventLog {
    ring: [Option<Event>; EVENT_SLOTS],
    next_seq: u64,
}

impl EventLog {
    /// An empty log, by value: for the host. In the kernel use
    /// [`EventLog::init_at`].
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Self {
            ring: [None; EVENT_SLOTS],
            next_seq: 1,
        }
    }

    /// Initialises an empty log at `slot`, in place.
    ///
    /// A log is 16 KiB, as large as a whole x86_64 kernel stack: building
    /// one with [`EventLog::new`] and moving it into place can overflow the
    /// stack (it did, at module load). This writes each slot where it lies.
    ///
    /// # Safety
    ///
    /// `slot` is valid for writes of a `Self` and aligned for it.
    pub unsafe fn init_at(slot: *mut Self) {
        // SAFETY: By the caller's contract `slot` may be written; `ring`
        // and `next_seq` are fields of it, and `ring` holds `EVENT_SLOTS`
        // elements.
        unsafe {
            let ring = (&raw mut (*slot).ring).cast::<Option<Event>>();
            for i in 0..EVENT_SLOTS {
                ring.add(i).write(None);
            }
            (&raw mut (*slot).next_seq).write(1);
        }
    }

    /// Appends an event, dropping the oldest when full; returns its number.
    pub fn push(&mut self, op: EventOp, first: usize, last: usize, outcome: Outcome) -> u64 {
        self.push_what(op, first, last, outcome, ("", ""))
    }

    /// [`EventLog::push`] with what the change meant (see [`Event::what`]).
    pub fn push_what(
        &mut self,
        op: EventOp,
        first: usize,
        last: usize,
        outcome: Outcome,
        what: (&'static str, &'static str),
    ) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = (seq % EVENT_SLOTS as u64) as usize;
        if let Some(e) = self.ring.get_mut(slot) {
            *e = Some(Event {
                seq,
                op,
                first,
                last,
                outcome,
                what,
            });
        }
        seq
    }

    /// Events logged so far (including the ones dropped).
    pub fn total(&self) -> u64 {
        self.next_seq - 1
    }

    /// The kept events, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        let total = self.total();
        let first = total.saturating_sub(EVENT_SLOTS as u64) + 1;
        (first..=total)
            .filter_map(move |seq| *self.ring.get((seq % EVENT_SLOTS as u64) as usize)?)
    }
}
