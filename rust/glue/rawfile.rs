// SPDX-License-Identifier: GPL-2.0

//! vmatrack's debugfs files, on raw `file_operations`.
//!
//! `kernel::debugfs` in 7.3 leaves `file_operations::owner` unset, so an
//! open file does not pin the module: `rmmod` goes ahead, and when the file
//! is closed later debugfs calls `release` through the `file_operations`
//! of the unloaded module (`full_proxy_release()` reads `real_fops` from
//! freed module memory). With a module loaded again at the same address
//! that is a jump into whatever lies there now; it crashed our guest. So
//! every file here sets `owner`, and the module makes all of its files
//! with these types:
//!
//! * [`ShowFile`] renders the whole file through `single_open`, like
//!   `kernel::debugfs`'s read-only files.
//! * [`LineFile`] streams one line per item through a `seq_file` iterator.
//!   `kernel::debugfs` renders through `single_open`, which re-renders the
//!   whole file from the top each time its buffer doubles: for a
//!   65,530-VMA `maps` that is a dozen full walks per read. Here each
//!   `read()` renders only the lines that fit, and the next one carries on
//!   from the address where the last stopped, as `/proc/PID/maps` does.
//! * [`CommandFile`] is read through `single_open`, but its writes are
//!   commands that return an errno (`kernel::debugfs` writers cannot) and
//!   must start at offset 0: the tail of a split write is refused instead of
//!   being taken as a command of its own.
//!
//! Both hold their data in an [`Arc`] whose pointer is the inode's private
//! data, and set the `file_operations` owner to this module, so an open
//! file pins the module (debugfs calls `release` even after the file is
//! removed). debugfs blocks every other operation once the file is removed.

use core::{fmt, marker::PhantomData};
use kernel::{
    bindings,
    error::from_err_ptr,
    ffi::{c_char, c_int, c_void},
    module::this_module,
    prelude::*,
    seq_file::SeqFile,
    sync::Arc,
    uaccess::{UserPtr, UserSlice, UserSliceReader},
};

/// A file of lines: an optional head, then one line per item, in key order.
pub(crate) trait Lines: Send + Sync + 'static {
    /// Starts a read from the top: brings the data up to date and writes the
    /// lines that come before the items (e.g. `# stale`).
    fn head(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;

    /// Where the search for the item after the first item at or after
    /// `from` starts (for VMAs: its end), or `None` when there is no item
    /// at or after `from`.
    fn next_from(&self, from: usize) -> Option<usize>;

    /// Writes the line of the first item at or after `from`.
    fn show(&self, from: usize, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// A file rendered whole at each read.
pub(crate) trait Show: Send + Sync + 'static {
    /// Writes what a read shows.
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// A file whose reads show a state and whose writes are commands.
pub(crate) trait Command: Show {
    /// Runs the command written in `input` (one whole `write()`): an error
    /// is returned to the writer and must leave the state as it was.
    fn run(&self, input: &mut UserSliceReader) -> Result;
}

/// Formats through a closure: lets [`SeqFile::call_printf`] take a rendering
/// function that writes to a [`fmt::Formatter`].
struct Render<F: Fn(&mut fmt::Formatter<'_>) -> fmt::Result>(F);

impl<F: Fn(&mut fmt::Formatter<'_>) -> fmt::Result> fmt::Display for Render<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.0)(f)
    }
}

/// Where a [`LineFile`] reader is.
#[derive(Clone, Copy)]
enum At {
    /// At position 0: the head.
    Head,
    /// At the first item at or after this key.
    Item(usize),
}

/// The per-open iterator state (`seq_file::private`).
struct Iter<T> {
    src: *const T,
    at: At,
}

/// A debugfs file removed when this is dropped.
///
/// # Invariants
///
/// `dentry` is a debugfs file created by [`RawFile::create`] whose inode's
/// private data is `Arc::as_ptr(&data)`, not yet removed.
pub(crate) struct RawFile<T> {
    dentry: *mut bindings::dentry,
    _data: Arc<T>,
}

// SAFETY: The dentry pointer is only passed to `debugfs_remove()`, which may
// run on any thread; `T` is shared across threads by the file's readers.
unsafe impl<T: Send + Sync> Send for RawFile<T> {}
// SAFETY: `&RawFile` gives no access to the dentry.
unsafe impl<T: Send + Sync> Sync for RawFile<T> {}

impl<T: Send + Sync> RawFile<T> {
    /// Creates `dir/name` (`dir` at debugfs's top level) with `mode` and
    /// `fops`, over `data`.
    fn create(
        dir: &CStr,
        name: &CStr,
        mode: u16,
        data: Arc<T>,
        fops: &'static bindings::file_operations,
    ) -> Result<Self> {
        // SAFETY: `dir` is a NUL-terminated string; a null parent means the
        // debugfs root.
        let parent = unsafe { bindings::debugfs_lookup(dir.as_char_ptr(), core::ptr::null_mut()) };
        if parent.is_null() {
            return Err(ENOENT);
        }
        // SAFETY: `name` is NUL-terminated and `parent` a live directory.
        // The private data stays valid while the file exists: `Self` holds
        // the `Arc` and removes the file before dropping it. `fops` is
        // 'static.
        let dentry = unsafe {
            bindings::debugfs_create_file_full(
                name.as_char_ptr(),
                mode,
                parent,
                Arc::as_ptr(&data).cast_mut().cast(),
                core::ptr::null(),
                fops,
            )
        };
        // SAFETY: `debugfs_lookup()` returned `parent` with a reference.
        unsafe { bindings::dput(parent) };
        let dentry = from_err_ptr(dentry)?;
        // INVARIANT: The file was just created over `data`.
        Ok(Self {
            dentry,
            _data: data,
        })
    }
}

impl<T> Drop for RawFile<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the file is ours and still there;
        // `debugfs_remove()` waits for the operations in flight, after
        // which none can reach `data`.
        unsafe { bindings::debugfs_remove(self.dentry) };
    }
}

/// A streamed file of lines; see the module documentation.
pub(crate) struct LineFile<T: Lines>(PhantomData<T>);

impl<T: Lines> LineFile<T> {
    const FOPS: bindings::file_operations = bindings::file_operations {
        owner: this_module::<crate::LocalModule>().as_ptr(),
        open: Some(Self::open),
        read: Some(bindings::seq_read),
        llseek: Some(bindings::seq_lseek),
        release: Some(bindings::seq_release_private),
        // SAFETY: All-zero is a valid `file_operations` (no operation).
        ..unsafe { core::mem::zeroed() }
    };

    const SEQ_OPS: bindings::seq_operations = bindings::seq_operations {
        start: Some(Self::start),
        stop: Some(Self::stop),
        next: Some(Self::next),
        show: Some(Self::show),
    };

    /// Creates `dir/name`, readable by root only.
    pub(crate) fn create(dir: &CStr, name: &CStr, data: Arc<T>) -> Result<RawFile<T>> {
        RawFile::create(dir, name, 0o400, data, &Self::FOPS)
    }

    /// # Safety
    ///
    /// Called by the VFS as `file_operations::open` of a file made by
    /// [`LineFile::create`].
    unsafe extern "C" fn open(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        let size = c_int::try_from(core::mem::size_of::<Iter<T>>()).unwrap_or(c_int::MAX);
        // SAFETY: `file` is being opened; `SEQ_OPS` is 'static.
        let it = unsafe { bindings::__seq_open_private(file, &Self::SEQ_OPS, size) };
        if it.is_null() {
            return ENOMEM.to_errno();
        }
        // SAFETY: `it` is a fresh, zeroed allocation of `size_of::<Iter<T>>()`
        // bytes, suitably aligned (kmalloc); `inode`'s private data is the
        // `T` of the `RawFile`, which outlives every operation on the file.
        unsafe {
            it.cast::<Iter<T>>().write(Iter {
                src: (*inode).i_private.cast::<T>(),
                at: At::Head,
            })
        };
        0
    }

    /// The iterator and its source.
    ///
    /// # Safety
    ///
    /// `m` is the `seq_file` of a file opened by [`Self::open`], and the
    /// caller has it to itself (seq_file's lock).
    unsafe fn iter<'a>(m: *mut bindings::seq_file) -> (&'a mut Iter<T>, &'a T) {
        // SAFETY: `open` set `private` to an `Iter<T>`; the caller holds
        // the seq_file's lock, so no other reference to it exists.
        let it = unsafe { &mut *(*m).private.cast::<Iter<T>>() };
        // SAFETY: `src` is the file's `T`, alive while the file exists
        // (debugfs keeps operations out of a removed file).
        let src = unsafe { &*it.src };
        (it, src)
    }

    /// A token for the current position, or null at the end.
    fn token(it: &mut Iter<T>, src: &T) -> *mut c_void {
        match it.at {
            At::Item(from) if src.next_from(from).is_none() => core::ptr::null_mut(),
            _ => core::ptr::from_mut(it).cast(),
        }
    }

    /// # Safety
    ///
    /// `seq_operations::start` contract.
    unsafe extern "C" fn start(
        m: *mut bindings::seq_file,
        pos: *mut bindings::loff_t,
    ) -> *mut c_void {
        // SAFETY: Called by seq_file with its lock held.
        let (it, src) = unsafe { Self::iter(m) };
        // SAFETY: `pos` is the seq_file's position. seq_file restarts from
        // position 0 for any read that does not carry on where the last
        // one stopped, so any other position is where `next` left `at`.
        if unsafe { *pos } == 0 {
            it.at = At::Head;
        }
        Self::token(it, src)
    }

    /// # Safety
    ///
    /// `seq_operations::next` contract.
    unsafe extern "C" fn next(
        m: *mut bindings::seq_file,
        _v: *mut c_void,
        pos: *mut bindings::loff_t,
    ) -> *mut c_void {
        // SAFETY: Called by seq_file with its lock held.
        let (it, src) = unsafe { Self::iter(m) };
        // SAFETY: `pos` is the seq_file's position; `next` must advance it.
        unsafe { *pos += 1 };
        it.at = match it.at {
            At::Head => At::Item(0),
            At::Item(from) => match src.next_from(from) {
                Some(next) if next > from => At::Item(next),
                // The item ended at the top of the key space.
                _ => return core::ptr::null_mut(),
            },
        };
        Self::token(it, src)
    }

    /// # Safety
    ///
    /// `seq_operations::stop` contract.
    unsafe extern "C" fn stop(_m: *mut bindings::seq_file, _v: *mut c_void) {}

    /// # Safety
    ///
    /// `seq_operations::show` contract.
    unsafe extern "C" fn show(m: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
        // SAFETY: Called by seq_file with its lock held.
        let (it, src) = unsafe { Self::iter(m) };
        // SAFETY: `m` is a live seq_file that this thread has to itself.
        let seq = unsafe { SeqFile::from_raw(m) };
        match it.at {
            At::Head => seq.call_printf(format_args!("{}", Render(|f| src.head(f)))),
            At::Item(from) => seq.call_printf(format_args!("{}", Render(|f| src.show(from, f)))),
        }
        0
    }
}

/// A read-only file rendered whole at each read; see the module
/// documentation.
pub(crate) struct ShowFile<T: Show>(PhantomData<T>);

impl<T: Show> ShowFile<T> {
    const FOPS: bindings::file_operations = bindings::file_operations {
        owner: this_module::<crate::LocalModule>().as_ptr(),
        open: Some(Self::open),
        read: Some(bindings::seq_read),
        llseek: Some(bindings::seq_lseek),
        release: Some(bindings::single_release),
        // SAFETY: All-zero is a valid `file_operations` (no operation).
        ..unsafe { core::mem::zeroed() }
    };

    /// Creates `dir/name`, readable by root only.
    pub(crate) fn create(dir: &CStr, name: &CStr, data: Arc<T>) -> Result<RawFile<T>> {
        RawFile::create(dir, name, 0o400, data, &Self::FOPS)
    }

    /// # Safety
    ///
    /// Called by the VFS as `file_operations::open` of a file whose inode's
    /// private data is the `T` of a [`RawFile`].
    unsafe extern "C" fn open(inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: `file` is being opened; the inode's private data is the
        // `T` of the `RawFile`, which outlives every operation on the file.
        unsafe { bindings::single_open(file, Some(Self::show), (*inode).i_private) }
    }

    /// # Safety
    ///
    /// `single_open` show contract, on a file opened by [`Self::open`].
    unsafe extern "C" fn show(m: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
        // SAFETY: `private` is the file's `T` (see `open`).
        let src = unsafe { &*(*m).private.cast::<T>() };
        // SAFETY: `m` is a live seq_file that this thread has to itself.
        let seq = unsafe { SeqFile::from_raw(m) };
        seq.call_printf(format_args!("{}", Render(|f| src.show(f))));
        0
    }
}

/// What a [`ShowFile`] made by [`ShowFn::file`] shows: `show` applied to
/// `data`.
pub(crate) struct ShowFn<D: Send + Sync + 'static> {
    data: D,
    show: fn(&D, &mut fmt::Formatter<'_>) -> fmt::Result,
}

impl<D: Send + Sync + 'static> Show for ShowFn<D> {
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.show)(&self.data, f)
    }
}

impl<D: Send + Sync + 'static> ShowFn<D> {
    /// Creates `dir/name`, readable by root only, showing `show(&data)`.
    pub(crate) fn file(
        dir: &CStr,
        name: &CStr,
        data: D,
        show: fn(&D, &mut fmt::Formatter<'_>) -> fmt::Result,
    ) -> Result<RawFile<Self>> {
        ShowFile::create(dir, name, Arc::new(Self { data, show }, GFP_KERNEL)?)
    }
}

/// A file of commands; see the module documentation.
pub(crate) struct CommandFile<T: Command>(PhantomData<T>);

impl<T: Command> CommandFile<T> {
    const FOPS: bindings::file_operations = bindings::file_operations {
        owner: this_module::<crate::LocalModule>().as_ptr(),
        // Reads are those of a `ShowFile`.
        open: Some(ShowFile::<T>::open),
        read: Some(bindings::seq_read),
        write: Some(Self::write),
        llseek: Some(bindings::seq_lseek),
        release: Some(bindings::single_release),
        // SAFETY: All-zero is a valid `file_operations` (no operation).
        ..unsafe { core::mem::zeroed() }
    };

    /// Creates `dir/name`, readable and writable by root only.
    pub(crate) fn create(dir: &CStr, name: &CStr, data: Arc<T>) -> Result<RawFile<T>> {
        RawFile::create(dir, name, 0o600, data, &Self::FOPS)
    }

    /// # Safety
    ///
    /// `file_operations::write` contract, on a file opened by
    /// [`ShowFile::open`] (which made the seq_file's `private` the `T`).
    unsafe extern "C" fn write(
        file: *mut bindings::file,
        buf: *const c_char,
        len: usize,
        ppos: *mut bindings::loff_t,
    ) -> isize {
        // SAFETY: `ppos` is the write's position.
        if unsafe { *ppos } != 0 {
            // The rest of a split write, or a write after a seek.
            return EINVAL.to_errno() as isize;
        }
        let Ok(n) = isize::try_from(len) else {
            return EINVAL.to_errno() as isize;
        };
        // SAFETY: `single_open` made `private_data` the seq_file, whose
        // `private` is the file's `T` (see `ShowFile::open`).
        let src = unsafe {
            &*(*(*file).private_data.cast::<bindings::seq_file>())
                .private
                .cast::<T>()
        };
        let mut input = UserSlice::new(UserPtr::from_ptr(buf.cast_mut().cast()), len).reader();
        match src.run(&mut input) {
            Ok(()) => {
                // SAFETY: As above; the whole write was taken.
                unsafe { *ppos = n as bindings::loff_t };
                n
            }
            Err(e) => e.to_errno() as isize,
        }
    }
}
