# cython: language_level=3, embedsignature=True, boundscheck=False, wraparound=False
# cython: cdivision=True, initializedcheck=False
"""The compiled twin: parsing, per-hour choice and the walk, in C.

Same names, signatures, results and errors as ``_segments_py`` (the reference);
``tests/fastseg`` runs every case on both and a Hypothesis test compares them.
What makes it fast:

* names are parsed from the directory entries' bytes (``readdir``), so only the
  segments chosen ever become Python objects;
* ``SegmentInfo`` tuples are filled in place and untracked by the garbage
  collector (they hold only strings, datetimes and timedeltas, so they can never
  be part of a cycle), which keeps collections short while 86,000 are made;
* each cached hour keeps its segments in C arrays (a reference and 8 bytes of
  start, duration and type each), so a warm selection is a loop over integers
  plus list appends, and the collector has no cached list to walk: a full
  collection costs the same however many hours are cached;
* a cold hour is read and built in chunks with a yield to gevent between them,
  so a long directory does not block the loop for long.

Times inside are integer microseconds since 1970-01-01 (UTC), which represent
every ``datetime`` between years 1 and 9999 exactly.
"""

cimport cython
from cpython.datetime cimport (
    PyDateTime_Check,
    datetime,
    datetime_day,
    datetime_hour,
    datetime_microsecond,
    datetime_minute,
    datetime_month,
    datetime_new,
    datetime_second,
    datetime_tzinfo,
    datetime_year,
    import_datetime,
    timedelta_new,
)
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from libc.errno cimport ENOENT, ENOTDIR, errno
from cpython.datetime cimport timedelta_days, timedelta_microseconds, timedelta_seconds
from cpython.ref cimport Py_INCREF, Py_XDECREF, PyObject
from libc.stdint cimport int64_t, uint32_t
from libc.stdlib cimport qsort
from libc.string cimport memcmp, memcpy, strlen


cdef extern from "<string.h>" nogil:
    const void *memrchr(const void *s, int c, size_t n)

import logging
import os
import sys
import time

import gevent

from fastseg import _common

import_datetime()

cdef extern from "Python.h":
    ctypedef struct PyTypeObject
    int PyUnicode_KIND(object u)
    void *PyUnicode_DATA(object u)
    object PyUnicode_Substring(object u, Py_ssize_t start, Py_ssize_t end)
    object PyUnicode_DecodeASCII(const char *s, Py_ssize_t size, const char *errors)
    object PyUnicode_EncodeFSDefault(object u)
    char *PyBytes_AS_STRING(object b)
    object PyErr_SetFromErrnoWithFilenameObject(object exc, object filename)
    void PyObject_GC_Track(object op)
    void PyObject_GC_UnTrack(object op)

cdef extern from *:
    """
    /* Fill a SegmentInfo (a tuple subclass) without calling Python code.

       It is allocated at its exact size, as PyTuple_New allocates a tuple
       (tp_alloc adds a sentinel item no tuple reads: 16 bytes more per segment
       with the allocator's rounding), and never tracked by the collector: it
       holds only atomic objects, so it can be in no cycle. Where the layout in
       front of an object is the one the module checked at import (a zeroed
       collector header of fastseg_gc_presize bytes, which reads "untracked"),
       the memory is taken without counting an allocation towards the next
       collection either: 86,000 segments would otherwise run 120 young
       collections and, in a process that never ran one, its first full one
       over everything its imports made. PyObject_GC_Del frees it as usual. */
    static Py_ssize_t fastseg_gc_presize = 0;

    static PyTupleObject *fastseg_alloc_info(PyTypeObject *tp) {
    #if PY_VERSION_HEX < 0x030E0000
        if (fastseg_gc_presize == 2 * (Py_ssize_t)sizeof(void *)
                && tp->tp_basicsize == PyTuple_Type.tp_basicsize
                && tp->tp_itemsize == (Py_ssize_t)sizeof(PyObject *)) {
            size_t size = (size_t)tp->tp_basicsize + 7 * sizeof(PyObject *);
            char *mem = (char *)PyObject_Malloc((size_t)fastseg_gc_presize + size);
            if (mem == NULL) return (PyTupleObject *)PyErr_NoMemory();
            memset(mem, 0, (size_t)fastseg_gc_presize);
            PyObject *op = (PyObject *)(mem + fastseg_gc_presize);
            PyObject_InitVar((PyVarObject *)op, tp, 7);
            return (PyTupleObject *)op;
        }
        return PyObject_GC_NewVar(PyTupleObject, tp, 7);
    #else  /* tuples have more fields (a cached hash) that tp_alloc sets up */
        PyTupleObject *t = (PyTupleObject *)tp->tp_alloc(tp, 7);
        if (t != NULL) PyObject_GC_UnTrack(t);
        return t;
    #endif
    }

    static PyObject *fastseg_make_info(PyObject *tp, PyObject *hour_path,
                                       PyObject *name, PyObject *channel,
                                       PyObject *quality, PyObject *start,
                                       PyObject *duration, PyObject *type) {
        PyObject *items[7] = {hour_path, name, channel, quality, start, duration, type};
        PyTupleObject *t = fastseg_alloc_info((PyTypeObject *)tp);
        if (t == NULL) return NULL;
        for (int i = 0; i < 7; i++) {
            Py_INCREF(items[i]);
            PyTuple_SET_ITEM(t, i, items[i]);
        }
        return (PyObject *)t;
    }
    """
    object fastseg_make_info(object tp, object hour_path, object name, object channel,
                             object quality, object start, object duration, object type)
    Py_ssize_t fastseg_gc_presize

cdef extern from "<dirent.h>" nogil:
    ctypedef struct DIR
    struct dirent:
        char d_name[256]
    DIR *opendir(const char *name)
    dirent *readdir(DIR *d)
    int closedir(DIR *d)
    int dirfd(DIR *d)

cdef extern from "<sys/stat.h>" nogil:
    struct timespec:
        long tv_sec
        long tv_nsec
    struct struct_stat "stat":
        unsigned long st_ino
        long st_size
        timespec st_mtim
    int stat(const char *path, struct_stat *buf)
    int fstatat(int dirfd, const char *path, struct_stat *buf, int flags)

cdef extern from "<time.h>" nogil:
    int CLOCK_REALTIME
    int clock_gettime(int clk, timespec *tp)

__all__ = [
    "best_segments_by_start",
    "cache_info",
    "clear_cache",
    "get_best_segments",
    "hour_coverage",
    "parse_segment_path",
    "set_cache_size",
    "playlist_entries",
]

logger = logging.getLogger("fastseg._segments_py")  # one logger name for both twins

cdef object SegmentInfo = _common.SegmentInfo
cdef object HourCoverage = _common.HourCoverage

# The bytes the interpreter keeps in front of a SegmentInfo (its collector
# header), measured on one made the ordinary way; see fastseg_alloc_info.
_probe = SegmentInfo("00:00-0-temp-x.ts", None, None, None, _common.FUDGE, "temp")
fastseg_gc_presize = sys.getsizeof(_probe) - _probe.__sizeof__()
del _probe
cdef object SegmentPathError = _common.SegmentPathError
cdef object ContainsHoles = _common.ContainsHoles
cdef object describe_bad_path = _common.describe_bad_path
cdef object log_bad_name = _common.log_bad_name
cdef object check_times = _common.check_times
cdef object check_cache_size = _common.check_cache_size
cdef object str_path = _common.str_path
cdef object _idle = gevent.idle
cdef object _fsdecode = os.fsdecode
cdef object _time_ns = time.time_ns

cdef extern from *:
    """
    /* Compile-time constants, so divisions by them compile to multiplications. */
    #define FASTSEG_US ((int64_t)1000000)
    #define FASTSEG_HOUR_US ((int64_t)3600000000LL)
    static const int64_t FASTSEG_POW10[7] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    """
    const int64_t POW10 "FASTSEG_POW10"[7]
    const int64_t US "FASTSEG_US"
    const int64_t HOUR_US "FASTSEG_HOUR_US"

cdef int64_t FUDGE_US = _common.FUDGE // _common._ONE_US
cdef int64_t RACY_NS = _common.RACY_NS

cdef enum:
    FULL = 0
    SUSPECT = 1
    PARTIAL = 2
    TEMP = 3

cdef tuple TYPE_NAMES = ("full", "suspect", "partial", "temp")

# Base64url digit values (-1: not in the alphabet), for comparing hashes without
# decoding them: the digits' order is the order of the bytes they encode.
cdef signed char B64[256]
for _i in range(256):
    B64[_i] = -1
_alphabet = list(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
for _i in range(64):
    B64[<int>_alphabet[_i]] = _i


# ---------------------------------------------------------------------------
# Calendar arithmetic (proleptic Gregorian, as datetime uses).

cdef inline int64_t days_from_civil(int64_t y, int64_t m, int64_t d) noexcept nogil:
    # Howard Hinnant's algorithm: days since 1970-01-01; 146097 days per 400 years.
    y -= m <= 2
    cdef int64_t era = (y if y >= 0 else y - 399) // 400
    cdef int64_t yoe = y - era * 400
    cdef int64_t doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    cdef int64_t doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


cdef inline void civil_from_days(int64_t z, int *y, int *m, int *d) noexcept nogil:
    z += 719468
    cdef int64_t era = (z if z >= 0 else z - 146096) // 146097
    cdef int64_t doe = z - era * 146097
    cdef int64_t yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    cdef int64_t doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    cdef int64_t mp = (5 * doy + 2) // 153
    d[0] = <int>(doy - (153 * mp + 2) // 5 + 1)
    m[0] = <int>(mp + 3 if mp < 10 else mp - 9)
    y[0] = <int>(yoe + era * 400 + (m[0] <= 2))


cdef inline int days_in_month(int y, int m) noexcept nogil:
    if m == 2:
        return 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    return 30 if m in (4, 6, 9, 11) else 31


cdef inline int64_t floordiv(int64_t a, int64_t b) noexcept nogil:
    # C division truncates toward zero; times before 1970 need the floor.
    cdef int64_t q = a / b
    return q - 1 if (a % b != 0) and ((a < 0) != (b < 0)) else q


cdef int64_t micros_of(datetime dt) except? -1:
    return ((days_from_civil(datetime_year(dt), datetime_month(dt), datetime_day(dt)) * 24
             + datetime_hour(dt)) * HOUR_US
            + datetime_minute(dt) * 60 * US + datetime_second(dt) * US
            + datetime_microsecond(dt))


cdef int64_t FIRST_US = micros_of(_common.FIRST_HOUR)  # the range the walk can reach
cdef int64_t LAST_US = micros_of(_common.LAST_HOUR)


cdef struct Hour:
    int year, month, day, hour


cdef inline void hour_fields(int64_t hour_us, Hour *h) noexcept nogil:
    cdef int64_t day = floordiv(hour_us, 24 * HOUR_US)
    civil_from_days(day, &h.year, &h.month, &h.day)
    h.hour = <int>((hour_us - day * 24 * HOUR_US) // HOUR_US)


cdef inline object datetime_in(const Hour *h, int64_t offset_us):
    """The datetime offset_us (0 <= offset_us < one hour) into the hour h."""
    return datetime_new(h.year, h.month, h.day, h.hour, <int>(offset_us // (60 * US)),
                        <int>(offset_us // US % 60), <int>(offset_us % US), None)


cdef object datetime_of(int64_t us):
    cdef int y, m, d
    cdef int64_t day = floordiv(us, 24 * HOUR_US)
    cdef int64_t rest = us - day * 24 * HOUR_US
    civil_from_days(day, &y, &m, &d)
    return datetime_new(y, m, d, <int>(rest // HOUR_US), <int>(rest // (60 * US) % 60),
                        <int>(rest // US % 60), <int>(rest % US), None)


# ---------------------------------------------------------------------------
# The grammar of docs/DESIGN.md#segment-names, over bytes: a directory entry's, or a str's own
# storage when it is one byte per character (the common case; others are
# encoded first, since every valid name and hour is ASCII).

cdef struct NameFields:
    int64_t offset_us    # start within the hour
    int64_t duration_us
    int type

cdef inline int digit(unsigned char c) noexcept nogil:
    return <int>c - 48 if 48 <= c <= 57 else -1


cdef bint parse_name(const unsigned char *s, Py_ssize_t a, Py_ssize_t b,
                     NameFields *out) noexcept nogil:
    """Parse s[a:b] as MM:SS[.f]-DURATION-TYPE-ID.ts; false if it is not one."""
    cdef Py_ssize_t i = a + 5, e = b - 3, n, first
    cdef int64_t v
    cdef int d
    if b - a < 17 or s[e] != 46 or s[e + 1] != 116 or s[e + 2] != 115:  # ".ts"
        return False
    # MM:SS within the hour: [0-5][0-9]:[0-5][0-9]
    if (not 48 <= s[a] <= 53 or digit(s[a + 1]) < 0 or s[a + 2] != 58
            or not 48 <= s[a + 3] <= 53 or digit(s[a + 4]) < 0):
        return False
    out.offset_us = (((s[a] - 48) * 10 + s[a + 1] - 48) * 60
                     + (s[a + 3] - 48) * 10 + s[a + 4] - 48) * US
    if s[i] == 46:  # '.', then 1-6 digits of fraction
        i += 1
        first = i
        v = 0
        while i < e and (d := digit(s[i])) >= 0:
            v = v * 10 + d
            i += 1
        n = i - first
        if not 1 <= n <= 6:
            return False
        out.offset_us += v * POW10[6 - n]
    if i >= e or s[i] != 45:  # '-'
        return False
    i += 1
    # DURATION: 1-9 whole digits, any fraction digits rounded half up to the microsecond
    first = i
    v = 0
    while i < e and (d := digit(s[i])) >= 0:
        v = v * 10 + d
        i += 1
    if not 1 <= i - first <= 9:
        return False
    out.duration_us = v * US
    if i < e and s[i] == 46:
        i += 1
        first = i
        v = 0
        while i < e and (d := digit(s[i])) >= 0:
            n = i - first
            if n < 6:
                v = v * 10 + d
            elif n == 6 and d >= 5:
                v += 1  # v has 6 digits now: rounds the microsecond up
            i += 1
        n = i - first
        if n == 0:
            return False
        out.duration_us += v * POW10[6 - n] if n < 6 else v
    if i >= e or s[i] != 45:
        return False
    i += 1
    # TYPE, then '-'
    if match(s, i, e, b"full-", 5):
        out.type = FULL
        i += 5
    elif match(s, i, e, b"suspect-", 8):
        out.type = SUSPECT
        i += 8
    elif match(s, i, e, b"partial-", 8):
        out.type = PARTIAL
        i += 8
    elif match(s, i, e, b"temp-", 5):
        out.type = TEMP
        i += 5
    else:
        return False
    # ID: a temp file's 1-64 character uuid, or a sha256 as 43 base64url digits
    # whose last digit carries only 2 of the hash's bits (so its low 2 bits are 0).
    n = e - i
    if out.type == TEMP:
        if not 1 <= n <= 64:
            return False
    elif n != 43 or B64[s[e - 1]] & 0x83:  # not a digit (-1 has the top bit), or low bits set
        return False
    while i < e:
        if B64[s[i]] < 0:
            return False
        i += 1
    return True


cdef inline bint match(const unsigned char *s, Py_ssize_t i, Py_ssize_t e,
                       const char *word, int n) noexcept nogil:
    cdef int k
    if e - i < n:
        return False
    for k in range(n):
        if s[i + k] != <unsigned char>word[k]:
            return False
    return True


cdef bint parse_hour(const unsigned char *s, Py_ssize_t a, Py_ssize_t b,
                     int64_t *hour_us) noexcept nogil:
    """Parse s[a:b] as YYYY-MM-DDTHH, a real hour between years 1 and 9999."""
    if b - a != 13 or s[a + 4] != 45 or s[a + 7] != 45 or s[a + 10] != 84:
        return False  # '-', '-', 'T'
    cdef int y = digits(s, a, 4), m = digits(s, a + 5, 2)
    cdef int d = digits(s, a + 8, 2), h = digits(s, a + 11, 2)
    if y < 1 or not 1 <= m <= 12 or not 1 <= d <= days_in_month(y, m) or not 0 <= h <= 23:
        return False
    hour_us[0] = (days_from_civil(y, m, d) * 24 + h) * HOUR_US
    return True


cdef inline int digits(const unsigned char *s, Py_ssize_t i, int n) noexcept nogil:
    """The number written by n decimal digits at s[i], or -1."""
    cdef int v = 0, k, dg
    for k in range(n):
        dg = digit(s[i + k])
        if dg < 0:
            return -1
        v = v * 10 + dg
    return v


# ---------------------------------------------------------------------------
# Shared timedeltas: durations repeat, so one object serves many segments.

cdef enum:
    DURATION_SLOTS = 1024  # a power of two; ample for the few lengths a stream uses
cdef int64_t duration_keys[DURATION_SLOTS]
cdef list duration_objs = [None] * DURATION_SLOTS
for _i in range(DURATION_SLOTS):
    duration_keys[_i] = -1


cdef object duration_of(int64_t us):
    cdef Py_ssize_t slot = <Py_ssize_t>((us ^ (us // 1000)) & (DURATION_SLOTS - 1))
    if duration_keys[slot] == us:
        return duration_objs[slot]
    td = timedelta_new(<int>(us // (86400 * US)), <int>(us // US % 86400), <int>(us % US))
    duration_keys[slot] = us
    duration_objs[slot] = td
    return td


# ---------------------------------------------------------------------------
# parse_segment_path

cdef object last_prefix = None  # the directory part of the last path parsed
cdef object last_hour_path = None
cdef object last_channel = None
cdef object last_quality = None
cdef Hour last_hour


cdef inline Py_ssize_t rfind_slash(const unsigned char *s, Py_ssize_t end) noexcept nogil:
    cdef const void *at = memrchr(s, 47, end) if end > 0 else NULL  # '/'
    return <const unsigned char *>at - s if at != NULL else -1


cdef inline object part_or_none(object path, Py_ssize_t a, Py_ssize_t b):
    return PyUnicode_Substring(path, a, b) if b > a else None


cdef bint same_prefix(const unsigned char *s, Py_ssize_t n) noexcept:
    """Whether s[:n] is the directory part of the last path parsed."""
    return (last_prefix is not None and len(<str>last_prefix) == n
            and memcmp(s, PyUnicode_DATA(last_prefix), n) == 0)


cdef bytes ascii_or_none(str text):
    """text as ASCII bytes, or None if it has other characters (never valid in a name or hour)."""
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        return None


@cython.wraparound(True)
cdef object parse_wide(str path):
    """A path with characters past U+00FF (in its directories): rare, so parsed with str methods."""
    cdef NameFields f
    cdef int64_t hour_us
    head, slash, name = path.rpartition("/")
    cdef bytes raw = ascii_or_none(name)
    if raw is None or not parse_name(raw, 0, len(raw), &f):
        raise SegmentPathError(path, describe_bad_path(path))
    if not slash:
        return fastseg_make_info(SegmentInfo, "", name, None, None, None,
                                 duration_of(f.duration_us), TYPE_NAMES[f.type])
    parts = head.split("/")
    raw = ascii_or_none(parts[-1])
    if raw is None or not parse_hour(raw, 0, len(raw), &hour_us):
        raise SegmentPathError(path, describe_bad_path(path))
    quality = parts[-2] or None if len(parts) >= 2 else None
    channel = parts[-3] or None if len(parts) >= 3 else None
    return fastseg_make_info(SegmentInfo, head, name, channel, quality,
                             datetime_of(hour_us + f.offset_us), duration_of(f.duration_us),
                             TYPE_NAMES[f.type])


def parse_segment_path(path):
    global last_prefix, last_hour_path, last_channel, last_quality
    cdef NameFields f
    cdef Py_ssize_t n, p1, p2, p3, p4
    cdef int64_t hour_us = 0
    cdef const unsigned char *s
    if not isinstance(path, str):
        raise SegmentPathError(path, describe_bad_path(path))
    if PyUnicode_KIND(path) != 1:
        return parse_wide(path)
    n = len(<str>path)
    s = <const unsigned char *>PyUnicode_DATA(path)
    p1 = rfind_slash(s, n)
    if not parse_name(s, p1 + 1, n, &f):
        raise SegmentPathError(path, describe_bad_path(path))
    if p1 < 0:
        return fastseg_make_info(SegmentInfo, "", path, None, None, None,
                                 duration_of(f.duration_us), TYPE_NAMES[f.type])
    if not same_prefix(s, p1):
        p2 = rfind_slash(s, p1)
        if not parse_hour(s, p2 + 1, p1, &hour_us):
            raise SegmentPathError(path, describe_bad_path(path))
        channel = quality = None
        if p2 >= 0:
            p3 = rfind_slash(s, p2)
            quality = part_or_none(path, p3 + 1, p2)
            if p3 >= 0:
                p4 = rfind_slash(s, p3)
                channel = part_or_none(path, p4 + 1, p3)
        last_prefix = last_hour_path = PyUnicode_Substring(path, 0, p1)
        last_channel = channel
        last_quality = quality
        hour_fields(hour_us, &last_hour)
    return fastseg_make_info(SegmentInfo, last_hour_path, PyUnicode_Substring(path, p1 + 1, n),
                             last_channel, last_quality, datetime_in(&last_hour, f.offset_us),
                             duration_of(f.duration_us), TYPE_NAMES[f.type])


# ---------------------------------------------------------------------------
# One hour: read the directory, choose the best segment per start, cache it.

cdef struct Candidate:
    int64_t offset_us
    int64_t duration_us
    int type
    Py_ssize_t name_at    # offset of the name in the arena
    Py_ssize_t name_len
    int64_t size          # -2 until needed, -1 if the file vanished


cdef int compare_candidates(const void *a, const void *b) noexcept nogil:
    cdef const Candidate *x = <const Candidate *>a
    cdef const Candidate *y = <const Candidate *>b
    if x.offset_us != y.offset_us:
        return -1 if x.offset_us < y.offset_us else 1
    return x.type - y.type  # best type first within a start


cdef struct Slot:
    uint32_t offset_us   # start within the hour (< 3.6e9)
    uint32_t duration    # duration_us << 2 | type (duration_us is LONG_DURATION if too long)

cdef enum:
    YIELD_EVERY = 256  # directory entries read, or segments built, between two yields
cdef uint32_t LONG_DURATION = 0x3FFFFFFF  # (17.9 min or more) read from the name or segment


cdef class _Hour:
    """An hour's choice in C arrays: each segment's times and type, and its name or object.

    Every hour keeps 8 bytes of start, duration and type per segment. The names
    are kept either as the segments themselves (``items``: owned references to
    ``SegmentInfo`` objects, for hours a selection used lately) or as one buffer
    of ASCII names (``names``, ``name_at``: what an hour costs while no selection
    needs its objects, about 80 bytes a segment instead of 290). No Python
    container, so the garbage collector never walks an hour's segments (they
    hold only strings, datetimes and timedeltas: they can be in no cycle).
    """
    cdef unsigned long ino
    cdef int64_t mtime_ns
    cdef bint trusted
    cdef int64_t hour_us
    cdef Py_ssize_t n      # the segments (while the objects are built: those built so far)
    cdef Slot *slots
    cdef PyObject **items  # the segments as objects, or NULL
    cdef char *names       # the names one after another, or NULL (then items is not)
    cdef uint32_t *name_at  # n + 1 offsets into names: name i is names[name_at[i]:name_at[i + 1]]
    cdef object hour_path, channel, quality  # what the objects are built with

    def __dealloc__(self):
        self.free_items()
        PyMem_Free(self.slots)
        PyMem_Free(self.names)
        PyMem_Free(self.name_at)

    cdef void free_items(self) noexcept:
        cdef Py_ssize_t i
        cdef PyObject **items = self.items
        if items != NULL:
            self.items = NULL
            for i in range(self.n):
                Py_XDECREF(items[i])
            PyMem_Free(items)

    cdef inline object segment(self, Py_ssize_t i):
        if self.items == NULL:  # let go meanwhile (a log handler ran other greenlets)
            self.build_items()
        return <object>self.items[i]

    cdef inline bint full(self, Py_ssize_t i) noexcept:
        return (self.slots[i].duration & 3) == FULL

    cdef inline int64_t start(self, Py_ssize_t i) noexcept:
        return self.hour_us + self.slots[i].offset_us

    cdef inline int64_t end(self, Py_ssize_t i) noexcept:
        cdef uint32_t d = self.slots[i].duration >> 2
        if d != LONG_DURATION:
            return self.hour_us + self.slots[i].offset_us + d
        return self.hour_us + self.slots[i].offset_us + self.long_duration(i)

    cdef int64_t long_duration(self, Py_ssize_t i) noexcept:
        """A duration too long for its slot: from the segment's timedelta, or its name."""
        cdef NameFields f
        if self.items != NULL:
            td = (<tuple><object>self.items[i])[5]
            return ((timedelta_days(td) * <int64_t>86400 + timedelta_seconds(td)) * US
                    + timedelta_microseconds(td))
        parse_name(<const unsigned char *>self.names, self.name_at[i], self.name_at[i + 1], &f)
        return f.duration_us

    cdef list segments(self):
        """A new list of the segments (the cache's arrays stay ours)."""
        cdef Py_ssize_t i
        if self.n == 0:
            return []
        if self.items == NULL:
            self.build_items()
        return [<object>self.items[i] for i in range(self.n)]

    cdef int build_items(self, bint yielding=False) except -1:
        """The segments as objects again, from the names (kept: letting go is then free).

        About 0.3 ms for an hour of 1,800 segments. With ``yielding``, yields to
        gevent every YIELD_EVERY segments: the names never change while the hour
        lives, and if another greenlet built the objects meanwhile, theirs stay.
        """
        cdef Py_ssize_t i, built = 0
        cdef Hour fields
        cdef uint32_t a, d
        cdef PyObject **items = <PyObject **>PyMem_Malloc(max(self.n, 1) * sizeof(PyObject *))
        if items == NULL:
            raise MemoryError()
        hour_fields(self.hour_us, &fields)
        try:
            for i in range(self.n):
                if yielding and i and i % YIELD_EVERY == 0:
                    _idle()
                a = self.name_at[i]
                d = self.slots[i].duration
                segment = fastseg_make_info(
                    SegmentInfo, self.hour_path,
                    PyUnicode_DecodeASCII(self.names + a, self.name_at[i + 1] - a, NULL),
                    self.channel, self.quality, datetime_in(&fields, self.slots[i].offset_us),
                    duration_of(d >> 2 if d >> 2 != LONG_DURATION else self.long_duration(i)),
                    TYPE_NAMES[d & 3])
                Py_INCREF(segment)
                items[i] = <PyObject *>segment
                built = i + 1
        except BaseException:
            for i in range(built):
                Py_XDECREF(items[i])
            PyMem_Free(items)
            raise
        if self.items != NULL:  # built by another greenlet while this one yielded
            for i in range(built):
                Py_XDECREF(items[i])
            PyMem_Free(items)
            return 0
        self.items = items
        return 0

    cdef int let_go(self) except -1:
        """Keep only the names (written out first if the objects were all there was)."""
        cdef Py_ssize_t i, total = 0
        cdef str name
        if self.items == NULL:
            return 0
        if self.names == NULL:
            for i in range(self.n):
                total += len(<str>(<tuple><object>self.items[i])[1])
            self.name_at = <uint32_t *>PyMem_Malloc((self.n + 1) * sizeof(uint32_t))
            self.names = <char *>PyMem_Malloc(max(total, 1))
            if self.name_at == NULL or self.names == NULL:
                PyMem_Free(self.name_at)
                PyMem_Free(self.names)
                self.name_at = NULL
                self.names = NULL
                raise MemoryError()
            total = 0
            for i in range(self.n):
                name = <str>(<tuple><object>self.items[i])[1]  # ASCII: parse_name took it
                self.name_at[i] = <uint32_t>total
                memcpy(self.names + total, PyUnicode_DATA(name), len(name))
                total += len(name)
            self.name_at[self.n] = <uint32_t>total
        self.free_items()
        return 0

    cdef object coverage(self):
        """The hour reduced to merged spans of full and of other segments (see hour_coverage)."""
        cdef list full = [], partial = []
        cdef int64_t a, b, fa = 0, fb = 0, pa = 0, pb = 0
        cdef bint have_full = False, have_partial = False
        cdef Py_ssize_t i, complete = 0
        for i in range(self.n):
            a = self.slots[i].offset_us
            b = self.end(i) - self.hour_us
            if self.full(i):
                complete += 1
                if have_full and a <= fb + FUDGE_US:  # joins the span before
                    if b > fb:
                        fb = b
                    continue
                if have_full:
                    full.append((fa, fb))
                fa, fb, have_full = a, b, True
            else:
                if have_partial and a <= pb + FUDGE_US:
                    if b > pb:
                        pb = b
                    continue
                if have_partial:
                    partial.append((pa, pb))
                pa, pb, have_partial = a, b, True
        if have_full:
            full.append((fa, fb))
        if have_partial:
            partial.append((pa, pb))
        return HourCoverage(tuple(full), tuple(partial), self.n, complete)


cdef class _Reader:
    """The directory entries of one hour, parsed into a growable C array."""
    cdef Candidate *cands
    cdef Py_ssize_t n, cap
    cdef char *arena
    cdef Py_ssize_t used, arena_cap

    def __dealloc__(self):
        PyMem_Free(self.cands)
        PyMem_Free(self.arena)

    cdef int add(self, const NameFields *f, const char *name, Py_ssize_t n) except -1:
        cdef void *grown
        if self.n == self.cap:
            self.cap = self.cap * 2 if self.cap else 2048
            grown = PyMem_Realloc(self.cands, self.cap * sizeof(Candidate))
            if grown == NULL:
                raise MemoryError()
            self.cands = <Candidate *>grown
        if self.used + n > self.arena_cap:
            self.arena_cap = max(self.arena_cap * 2, self.used + n, 2048 * 80)
            grown = PyMem_Realloc(self.arena, self.arena_cap)
            if grown == NULL:
                raise MemoryError()
            self.arena = <char *>grown
        memcpy(self.arena + self.used, name, n)
        cdef Candidate *c = &self.cands[self.n]
        c.offset_us = f.offset_us
        c.duration_us = f.duration_us
        c.type = f.type
        c.name_at = self.used
        c.name_len = n
        c.size = -2
        self.used += n
        self.n += 1
        return 0

    cdef bytes name(self, Py_ssize_t i):
        return self.arena[self.cands[i].name_at:self.cands[i].name_at + self.cands[i].name_len]


cdef int64_t size_of(_Reader r, Py_ssize_t i, int dfd):
    """The file's size, as the tie-break needs it: -1 if it vanished since the listing."""
    cdef Candidate *c = &r.cands[i]
    cdef struct_stat st
    cdef bytes name
    if c.size == -2:
        name = r.name(i)
        c.size = st.st_size if fstatat(dfd, name, &st, 0) == 0 else -1
    return c.size


cdef int compare_names(_Reader r, Py_ssize_t i, Py_ssize_t j) noexcept:
    cdef Candidate *a = &r.cands[i]
    cdef Candidate *b = &r.cands[j]
    cdef Py_ssize_t n = min(a.name_len, b.name_len)
    cdef int c = memcmp(r.arena + a.name_at, r.arena + b.name_at, n)
    if c:
        return c
    return (a.name_len > b.name_len) - (a.name_len < b.name_len)


cdef int compare_hashes(_Reader r, Py_ssize_t i, Py_ssize_t j) noexcept:
    # The hash is the last 43 characters before ".ts".
    cdef const unsigned char *x = <const unsigned char *>(
        r.arena + r.cands[i].name_at + r.cands[i].name_len - 46)
    cdef const unsigned char *y = <const unsigned char *>(
        r.arena + r.cands[j].name_at + r.cands[j].name_len - 46)
    cdef int k
    for k in range(43):
        if x[k] != y[k]:
            return B64[x[k]] - B64[y[k]]
    return 0


cdef Py_ssize_t best_of(_Reader r, Py_ssize_t a, Py_ssize_t b, int dfd):
    """Index of the best of candidates a..b-1 (same start, best type first).

    See docs/DESIGN.md#best-copy-of-a-start-time.
    """
    cdef Py_ssize_t best = a, i
    cdef int64_t bs, s
    cdef int c
    cdef int type_ = r.cands[a].type
    while b > a + 1 and r.cands[b - 1].type != type_:
        b -= 1  # only the best type competes
    for i in range(a + 1, b):
        if type_ == FULL:
            if r.cands[i].duration_us != r.cands[best].duration_us:
                if r.cands[i].duration_us > r.cands[best].duration_us:
                    best = i
                continue
        s = size_of(r, i, dfd)
        bs = size_of(r, best, dfd)
        if s != bs:
            if s > bs:
                best = i
            continue
        if type_ == FULL:
            c = compare_hashes(r, i, best)
            if c == 0:
                c = compare_names(r, i, best)  # equal hashes: "2" and "2.0" name one length
        else:
            c = compare_names(r, best, i)  # equal sizes: the first name, as wubloader
        if c > 0:
            best = i
    return best


cdef _Hour read_hour(bytes bpath, str hour_path, object channel, object quality,
                     int64_t hour_us, bint yielding, bint objects):
    """Read and choose one hour; with ``yielding``, yield to gevent every YIELD_EVERY steps.

    With ``objects`` the segments are built as ``SegmentInfo`` objects, otherwise
    only their names are kept (what the coverage of an hour needs).
    """
    cdef DIR *d = opendir(bpath)
    cdef dirent *ent
    cdef const char *name
    cdef Py_ssize_t n, i, j, k, count, seen = 0
    cdef NameFields f
    cdef _Reader r = _Reader()
    cdef set tombstones = None
    cdef list junk = None
    cdef _Hour hour = _Hour()
    hour.hour_us = hour_us
    hour.hour_path = hour_path
    hour.channel = channel
    hour.quality = quality
    if d == NULL:
        if errno == ENOENT or errno == ENOTDIR:
            return hour
        PyErr_SetFromErrnoWithFilenameObject(OSError, hour_path)
    try:
        while True:
            ent = readdir(d)
            if ent == NULL:
                break
            seen += 1
            if yielding and seen % YIELD_EVERY == 0:
                _idle()  # a long directory must not stall the other greenlets
            name = ent.d_name
            if name[0] == 46:  # '.': hidden
                continue
            n = strlen(name)
            if n >= 10 and memcmp(name + n - 10, b".tombstone", 10) == 0:
                if tombstones is None:
                    tombstones = set()
                tombstones.add(name[:n - 10] + b".ts")  # STEM.tombstone hides STEM.ts
                continue
            if not parse_name(<const unsigned char *>name, 0, n, &f):
                if junk is None:
                    junk = []
                junk.append(name[:n])
                continue
            if f.type != TEMP:
                r.add(&f, name, n)
        if tombstones:
            k = 0
            for i in range(r.n):
                if r.name(i) not in tombstones:
                    r.cands[k] = r.cands[i]
                    k += 1
            r.n = k
        if junk:
            for raw in junk:
                if tombstones is None or raw not in tombstones:
                    log_bad_name(hour_path + "/" + _fsdecode(raw))
        if r.n:
            qsort(r.cands, r.n, sizeof(Candidate), compare_candidates)
        # Choose one per start, in place: chosen[k] = index of the best of group k.
        count = 0
        i = 0
        while i < r.n:
            j = i + 1
            while j < r.n and r.cands[j].offset_us == r.cands[i].offset_us:
                j += 1
            k = best_of(r, i, j, dirfd(d)) if j > i + 1 else i
            r.cands[count] = r.cands[k]
            count += 1
            i = j
    finally:
        closedir(d)
    hour.slots = <Slot *>PyMem_Malloc(max(count, 1) * sizeof(Slot))
    if hour.slots == NULL:
        raise MemoryError()
    cdef Candidate *c
    cdef Py_ssize_t total = 0
    for i in range(count):
        c = &r.cands[i]
        hour.slots[i].offset_us = <uint32_t>c.offset_us
        hour.slots[i].duration = (
            <uint32_t>min(c.duration_us, <int64_t>LONG_DURATION) << 2) | <uint32_t>c.type
        total += c.name_len
    if not objects:  # only the names, copied out of the arena
        hour.name_at = <uint32_t *>PyMem_Malloc((count + 1) * sizeof(uint32_t))
        hour.names = <char *>PyMem_Malloc(max(total, 1))
        if hour.name_at == NULL or hour.names == NULL:
            raise MemoryError()
        total = 0
        for i in range(count):
            c = &r.cands[i]
            hour.name_at[i] = <uint32_t>total
            memcpy(hour.names + total, r.arena + c.name_at, c.name_len)
            total += c.name_len
        hour.name_at[count] = <uint32_t>total
        hour.n = count
        return hour
    hour.items = <PyObject **>PyMem_Malloc(max(count, 1) * sizeof(PyObject *))
    if hour.items == NULL:
        raise MemoryError()
    cdef Hour fields
    hour_fields(hour_us, &fields)
    for i in range(count):
        if yielding and i and i % YIELD_EVERY == 0:
            _idle()
        c = &r.cands[i]
        segment = fastseg_make_info(
            SegmentInfo, hour_path, PyUnicode_DecodeASCII(r.arena + c.name_at, c.name_len, NULL),
            channel, quality, datetime_in(&fields, c.offset_us), duration_of(c.duration_us),
            TYPE_NAMES[c.type])
        Py_INCREF(segment)
        hour.items[i] = <PyObject *>segment
        hour.n = i + 1
    return hour


cdef dict _cache = {}
cdef Py_ssize_t _cache_size = _common.DEFAULT_CACHE_HOURS
cdef _Hour EMPTY_HOUR = _Hour()

# The hours whose segments are kept as objects, least recently used first, and
# how many segments that is: past the budget the oldest keep only their names.
cdef dict _objects = {}
cdef Py_ssize_t _object_count = 0
cdef Py_ssize_t _object_budget = _common.DEFAULT_OBJECT_SEGMENTS


cdef void forget(str hour_path):
    """Stop counting an hour's objects (it left the cache, or is being replaced)."""
    global _object_count
    cdef _Hour entry = _objects.pop(hour_path, None)
    if entry is not None:
        _object_count -= entry.n


cdef int keep_objects(str hour_path, _Hour entry) except -1:
    """Count an hour as kept in objects, most recently used; the oldest past the budget let go."""
    global _object_count
    if entry.n == 0:
        return 0
    forget(hour_path)
    _objects[hour_path] = entry
    _object_count += entry.n
    return shrink_objects()


cdef int shrink_objects() except -1:
    """Let the oldest hours in objects keep only names until the budget holds (not the newest)."""
    global _object_count
    cdef _Hour victim
    while _object_count > _object_budget and len(_objects) > 1:
        victim = _objects.pop(next(iter(_objects)))
        _object_count -= victim.n
        victim.let_go()
    return 0


cdef void evict(str hour_path):
    del _cache[hour_path]
    forget(hour_path)


def set_cache_size(hours):
    global _cache_size
    _cache_size = check_cache_size(hours)
    while len(_cache) > _cache_size:
        evict(next(iter(_cache)))


def clear_cache():
    global _object_count
    _cache.clear()
    _objects.clear()
    _object_count = 0


def cache_info():
    return [(path, (<_Hour>entry).trusted) for path, entry in _cache.items()]


def _set_object_budget(segments):
    """Keep at most this many segments as objects (tests; the default suits a service)."""
    global _object_budget
    if not isinstance(segments, int) or isinstance(segments, bool) or segments < 0:
        raise ValueError(f"the object budget must be a whole number of segments >= 0, "
                         f"got {segments!r}")
    _object_budget = segments
    shrink_objects()


def _object_info():
    """(segments kept as objects, the hours that hold them): for tests and benchmarks."""
    return _object_count, list(_objects)


cdef _Hour load_hour(str hour_path, object channel, object quality, int64_t hour_us,
                     bint yielding=False, bint objects=True):
    """The cached choice for an hour directory, read again if it may have changed.

    With ``objects`` its segments are built as objects (if only their names were
    kept) and it becomes the most recently used hour in objects.
    """
    cdef struct_stat st
    cdef bytes bpath = PyUnicode_EncodeFSDefault(hour_path)
    cdef _Hour entry
    cdef int64_t mtime_ns, began
    cdef timespec now
    if stat(bpath, &st) != 0:
        if errno == ENOENT or errno == ENOTDIR:
            if hour_path in _cache:
                evict(hour_path)
            return EMPTY_HOUR
        PyErr_SetFromErrnoWithFilenameObject(OSError, hour_path)
    mtime_ns = <int64_t>st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec
    entry = _cache.get(hour_path)
    if (entry is not None and entry.trusted
            and entry.ino == st.st_ino and entry.mtime_ns == mtime_ns):
        del _cache[hour_path]
        _cache[hour_path] = entry  # most recently used goes last
        if objects:
            if entry.items == NULL:
                entry.build_items(yielding)
            keep_objects(hour_path, entry)
        return entry
    clock_gettime(CLOCK_REALTIME, &now)
    began = <int64_t>now.tv_sec * 1000000000 + now.tv_nsec
    entry = read_hour(bpath, hour_path, channel, quality, hour_us, yielding, objects)
    entry.ino = st.st_ino
    entry.mtime_ns = mtime_ns
    entry.trusted = mtime_ns + RACY_NS < began
    if hour_path in _cache:  # an older read (or another greenlet's, while this one yielded)
        evict(hour_path)
    _cache[hour_path] = entry
    if objects:
        keep_objects(hour_path, entry)
    if len(_cache) > _cache_size:
        evict(next(iter(_cache)))
    return entry


@cython.wraparound(True)
cdef tuple split_hour_path(str hour_path):
    """(stripped path, channel, quality, hour start) of BASE/CH/Q/HOUR, as the pure twin."""
    cdef int64_t hour_us
    hour_path = hour_path.rstrip("/") or "/"
    parts = hour_path.split("/")
    cdef bytes raw = ascii_or_none(parts[-1])
    if raw is None or not parse_hour(raw, 0, len(raw), &hour_us):
        raise ValueError(f"{hour_path!r} is not an hour directory (…/YYYY-MM-DDTHH)")
    quality = parts[-2] or None if len(parts) >= 2 else None
    channel = parts[-3] or None if len(parts) >= 3 else None
    return hour_path, channel, quality, hour_us


def best_segments_by_start(hour_path):
    if type(hour_path) is not str:
        hour_path = str_path(hour_path, "hour_path")
    hour_path, channel, quality, hour_us = split_hour_path(hour_path)
    return load_hour(hour_path, channel, quality, hour_us).segments()


def hour_coverage(hour_path):
    if type(hour_path) is not str:
        hour_path = str_path(hour_path, "hour_path")
    hour_path, channel, quality, hour_us = split_hour_path(hour_path)
    return load_hour(hour_path, channel, quality, hour_us, True, False).coverage()


cdef str hour_text(int64_t hour_us):
    cdef Hour h
    hour_fields(hour_us, &h)
    return f"{h.year:04d}-{h.month:02d}-{h.day:02d}T{h.hour:02d}"


# ---------------------------------------------------------------------------
# A range: walk the hours, join the best segments, mark the holes.

@cython.wraparound(True)
def get_best_segments(hours_path, start, end, allow_holes=True):
    if type(hours_path) is not str:
        hours_path = str_path(hours_path, "hours_path")
    if not (PyDateTime_Check(start) and PyDateTime_Check(end)
            and datetime_tzinfo(start) is None and datetime_tzinfo(end) is None):
        check_times(start, end)  # raises, saying which time is wrong and how
    cdef int64_t start_us = micros_of(start), end_us = micros_of(end)
    if not (FIRST_US <= start_us < LAST_US and FIRST_US <= end_us < LAST_US
            and start_us <= end_us):
        check_times(start, end)
    cdef int64_t hour_us = floordiv(start_us, HOUR_US) * HOUR_US - HOUR_US
    cdef int64_t s, e, gap, prev_start = 0, prev_end = 0
    cdef bint have_prev = False, prev_full = False, done = False, first = True
    cdef bint holes_ok = allow_holes
    cdef Py_ssize_t i
    cdef _Hour hour
    cdef list result = []
    cdef object prev = None
    # Untracked while it grows (it holds only segments and None, so no cycle):
    # a young collection during the walk would otherwise walk all of it.
    PyObject_GC_UnTrack(result)
    hours_path = hours_path.rstrip("/")
    split = hours_path.split("/")
    quality = split[-1] or None
    channel = split[-2] or None if len(split) >= 2 else None
    while hour_us <= end_us and not done:
        if not first:
            _idle()  # a long range must not stall the other greenlets
        first = False
        hour = load_hour(hours_path + "/" + hour_text(hour_us), channel, quality, hour_us, True)
        for i in range(hour.n):
            s = hour.start(i)
            e = hour.end(i)
            if s >= end_us and (have_prev or s > start_us):
                done = True  # past the range
                break
            if not have_prev:
                if e <= start_us:
                    continue  # before the range
                if s > start_us + FUDGE_US:
                    if not holes_ok:
                        raise ContainsHoles(start, datetime_of(s))
                    result.append(None)
            else:
                gap = s - prev_end
                if gap < -FUDGE_US:
                    logger.info("skipping %r: it overlaps the end of %r",
                                hour.segment(i).path, prev.path)
                    continue
                if not prev_full or gap > FUDGE_US:
                    if not holes_ok:
                        raise ContainsHoles(
                            datetime_of(prev_end if gap > FUDGE_US else prev_start),
                            datetime_of(s))
                    result.append(None)
            prev = hour.segment(i)
            result.append(prev)
            have_prev = True
            prev_start = s
            prev_end = e
            prev_full = hour.full(i)
        hour_us += HOUR_US
        if not holes_ok and not done and hour_us <= end_us:
            # Every segment still unread starts at hour_us or later: a hole
            # before it is already certain (as _raise_if_hole_before says).
            if not have_prev:
                if hour_us > start_us + FUDGE_US:
                    raise ContainsHoles(start, datetime_of(hour_us))
            elif not prev_full:
                raise ContainsHoles(datetime_of(prev_start), datetime_of(hour_us))
            elif prev_end + FUDGE_US < hour_us:
                raise ContainsHoles(datetime_of(prev_end), datetime_of(hour_us))
    if not have_prev:
        if not holes_ok:
            raise ContainsHoles(start, end)
        return [None]
    if not prev_full or prev_end + FUDGE_US < end_us:
        if not holes_ok:
            raise ContainsHoles(datetime_of(prev_end if prev_full else prev_start), end)
        result.append(None)
    PyObject_GC_Track(result)  # the caller's now: a list like any other
    return result


# ---------------------------------------------------------------------------
# Playlist entries: segments as HLS lines, sliced out of their names into one
# bytes object (the pure twin formats a string per segment and joins them).

from cpython cimport array
from cpython.datetime cimport (
    PyDelta_Check,
    timedelta_days,
    timedelta_microseconds,
    timedelta_seconds,
)

import array as _array

cdef extern from "Python.h":
    int PyUnicode_IS_ASCII(object u)
    object PyBytes_FromStringAndSize(const char *s, Py_ssize_t n)

cdef object playlist_entry = _common.playlist_entry
cdef object ascii_url = _common.ascii_url
cdef bytes PDT = _common.PROGRAM_DATE_TIME.encode("ascii")
cdef bytes EXTINF = b"Z\n#EXTINF:"
cdef bytes COMMA = b",\n"
cdef array.array OFFSETS = _array.array("q")
cdef array.array SECONDS = _array.array("d")


cdef inline Py_ssize_t seconds_end(str name) noexcept:
    """Where the duration in a usual name (``MM:SS.ffffff-DURATION-...``) ends, or -1."""
    cdef Py_ssize_t n = len(name), i
    cdef const unsigned char *s
    if not PyUnicode_IS_ASCII(name) or n < 14:
        return -1
    s = <const unsigned char *>PyUnicode_DATA(name)
    if s[5] != 46 or s[12] != 45:  # '.', '-'
        return -1
    for i in range(13, n):
        if s[i] == 45:
            return i
    return -1


cdef inline char *put(char *at, const char *s, Py_ssize_t n) noexcept:
    memcpy(at, s, n)
    return at + n


def playlist_entries(segments, url):
    cdef list segs = list(segments)  # ours: the fallback runs Python code between passes
    cdef Py_ssize_t count = len(segs), i, dash, total = 0, size, fixed
    cdef Py_ssize_t url_len, hour_len = 0
    cdef bytes burl = ascii_url(url)
    cdef array.array offsets = array.clone(OFFSETS, count + 1, False)
    cdef array.array seconds = array.clone(SECONDS, count, False)
    cdef list odd = None  # the entries of unusual names, formatted in Python
    cdef object hour_path = None, duration
    cdef str name
    cdef object hour_name = None
    cdef bytes data, bhour = b""
    cdef char *at
    cdef tuple segment
    url_len = len(burl)
    offsets.data.as_longlongs[0] = 0
    # Every usual entry is its names, its duration text and these constant lines.
    fixed = len(PDT) + 1 + 12 + len(EXTINF) + len(COMMA) + url_len + 1
    for i in range(count):
        item = segs[i]
        if not isinstance(item, SegmentInfo):  # so it has its 7 fields
            raise TypeError(f"expected a SegmentInfo, got {type(item).__name__} {item!r}")
        segment = <tuple>item
        name = <str?>segment[1]
        dash = seconds_end(name)
        if dash < 0:
            if odd is None:
                odd = [None] * count
            odd[i] = playlist_entry(segment, url).encode("ascii")
            size = len(<bytes>odd[i])
        else:
            if segment[0] is not hour_path:
                hour_path = segment[0]
                hour_name = hour_path[hour_path.rfind("/") + 1:]
                hour_len = len(hour_name.encode("ascii"))  # raises as the pure twin does
            size = fixed + hour_len + (dash - 13) + len(name)
        total += size
        offsets.data.as_longlongs[i + 1] = total
        duration = segment[5]
        if PyDelta_Check(duration):  # as total_seconds(): exact below 2**53 microseconds
            seconds.data.as_doubles[i] = <double>(
                (<int64_t>timedelta_days(duration) * 86400 + timedelta_seconds(duration)) * US
                + timedelta_microseconds(duration)) / 1e6
        else:
            seconds.data.as_doubles[i] = duration.total_seconds()
    data = PyBytes_FromStringAndSize(NULL, total)
    at = PyBytes_AS_STRING(data)
    hour_path = None
    for i in range(count):
        segment = <tuple>segs[i]
        if odd is not None and odd[i] is not None:
            at = put(at, PyBytes_AS_STRING(odd[i]), len(<bytes>odd[i]))
            continue
        name = <str>segment[1]
        if segment[0] is not hour_path:
            hour_path = segment[0]
            hour_name = hour_path[hour_path.rfind("/") + 1:]
            bhour = hour_name.encode("ascii")
        dash = seconds_end(name)
        at = put(at, PDT, len(PDT))
        at = put(at, bhour, len(bhour))
        at[0] = 58  # ':'
        at = put(at + 1, <const char *>PyUnicode_DATA(name), 12)
        at = put(at, EXTINF, len(EXTINF))
        at = put(at, <const char *>PyUnicode_DATA(name) + 13, dash - 13)
        at = put(at, COMMA, len(COMMA))
        at = put(at, burl, url_len)
        at = put(at, <const char *>PyUnicode_DATA(name), len(name))
        at[0] = 10  # '\n'
        at += 1
    return data, offsets, seconds
