#!/usr/bin/env python3
"""Writes the seed corpora of fuzz-request, fuzz-policy-file, fuzz-cli and
fuzz-broker into fuzz/corpus/<name>/ (the input layouts are described at the
top of each fuzz/fuzz-<name>.c). Run from anywhere: python3 fuzz/gen-corpus.py
The files are committed; rerun after changing a layout."""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
u32 = lambda v: struct.pack('<I', v & 0xffffffff)
u16 = lambda v: struct.pack('<H', v)
O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_DIRECTORY, O_NOFOLLOW, O_PATH = \
    0, 1, 2, 0o100, 0o1000, 0o200000, 0o400000, 0o10000000


def write(name, seeds):
    d = os.path.join(HERE, 'corpus', name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    for key, data in seeds.items():
        with open(os.path.join(d, key), 'wb') as f:
            f.write(data)


def s(b):
    return u32(len(b)) + b


def open_payload(flags, mode, path):
    return u32(flags) + u32(mode) + s(path)


def request():
    return {
        'open-ok': b'\0' + open_payload(O_RDONLY, 0, b'/etc/passwd'),
        'open-creat': b'\0' + open_payload(O_WRONLY | O_CREAT, 0o644, b'/tmp/x'),
        'open-badmode': b'\0' + open_payload(0, 0o10000, b'/a'),
        'open-trailing': b'\0' + u32(0) + u32(0) + u32(2) + b'/ab',
        'open-short': b'\0' + u32(0) + u32(0) + u32(9) + b'/a',
        'open-nul': b'\0' + open_payload(0, 0, b'/a\0b'),
        'open-empty': b'\0' + u32(0) + u32(0) + u32(0),
        'open-long': b'\0' + open_payload(0, 0, b'/' + b'a' * 4094),
        'open-toolong': b'\0' + open_payload(0, 0, b'/' + b'a' * 4095),
        'name-ok': b'\1' + s(b'db'),
        'name-max': b'\1' + s(b'n' * 255),
        'name-toolong': b'\1' + s(b'n' * 256),
        'name-huge-count': b'\1' + u32(0xffffffff) + b'x',
        'err-ok': b'\2' + u32(13),
        'err-zero': b'\2' + u32(0),
        'err-big': b'\2' + u32(4096),
        'err-long': b'\2' + u32(13) + b'\0',
        'enc-open': b'\3' + u32(O_RDWR) + u32(0o600) + u16(64) + b'/tmp/file',
        'enc-open-small': b'\3' + u32(0) + u32(0) + u16(12) + b'/x',
        'enc-open-mode': b'\3' + u32(0) + u32(0o7777 + 1) + u16(100) + b'/x',
        'enc-open-empty': b'\3' + u32(0) + u32(0) + u16(100),
        'enc-name': b'\4' + u16(32) + b'log',
        'enc-name-small': b'\4' + u16(6) + b'log',
        'enc-err': b'\5' + u32(2),
        'enc-err-neg': b'\5' + u32(-1),
    }


def policy_file():
    t = b'/tmp/sbx-fuzz-policy'
    return {
        'rules': b'# a policy\nread,dir ' + t + b'\nread,write,create ' + t + b'/sub\n'
                 b'exec /usr/bin\ndev /dev/null\n',
        'symlinks': b'read ' + t + b'/link\nread ' + t + b'/abs\nread ' + t + b'/dangling\n',
        'fds': b'fd log ' + t + b'/file rw\nfd in ' + t + b'/sub/f\nfd fifo ' + t +
               b'/fifo ro\nfd null /dev/null\n',
        'fd-dup': b'fd a /dev/null\nfd a /dev/null\n',
        'fd-pre': b'fd ok /dev/null\nfd pre /dev/null\n',
        'fd-then-bad': b'fd a ' + t + b'/file\nfd b ' + t + b'/missing\n',
        'connect': b'connect db unix:@sbx-fuzz-policy\nconnect web tcp:127.0.0.1:8080\n'
                   b'connect v6 tcp:[::1]:22\nconnect sock unix:' + t + b'/sock\n',
        'connect-bad': b'connect x tcp:example.org:80\nconnect y tcp:1.2.3.4:99999\n',
        'connect-pre': b'connect pre unix:@other\n',
        'limits': b'limit request-bytes 8192\nlimit in-flight 4\n',
        'limits-bad': b'limit in-flight 0\nlimit request-bytes 99999999999\n',
        'syscalls': b'allow-syscall ptrace\ndeny-syscall socket\nallow-syscall ptrace\n',
        'errors': b'read relative/path\n',
        'dotdot': b'read ' + t + b'/../etc\n',
        'perm-bad': b'read,,write ' + t + b'\n',
        'unknown': b'frobnicate /x\n',
        'fields': b'fd a b c d e\n',
        'no-newline': b'read ' + t,
        'nul': b'read /tmp\0\n',
        'blank': b'\n\n   \t\n# only comments\n',
        'mixed': b'read,dir ' + t + b'\nfd f ' + t + b'/file\nconnect c unix:@x\n'
                 b'allow-syscall kill\nlimit in-flight 2\nread ' + t + b'/missing\n',
    }


def cli():
    a = lambda *w: b'\0'.join(w)
    return {
        'simple': a(b'--ro', b'/usr', b'--rw', b'/tmp', b'--', b'/bin/true'),
        'fds': a(b'--fd', b'log=/tmp/log:rw', b'--fd', b'in=/etc/passwd', b'cat'),
        'fd-dup': a(b'--fd', b'a=/x', b'--fd', b'a=/y', b'cat'),
        'listen': a(b'--listen', b'web=tcp:127.0.0.1:0', b'--listen', b'u=unix:/tmp/s', b'x'),
        'listen-bad': a(b'--listen', b'web=udp:1', b'x'),
        'connect': a(b'--connect', b'db=unix:@db', b'--connect=bad name=x', b'x'),
        'seccomp': a(b'--seccomp=strict', b'--seccomp-action=kill', b'--allow-syscall',
                     b'ptrace', b'--deny-syscall', b'socket', b'x'),
        'seccomp-file': a(b'--seccomp', b'./filter', b'--dump-seccomp'),
        'seccomp-bad': a(b'--allow-syscall', b'nosuchcall', b'x'),
        'rlimits': a(b'--rlimit', b'nofile=64:128', b'--rlimit', b'as=unlimited',
                     b'--rlimit', b'cpu=5', b'x'),
        'rlimit-bad': a(b'--rlimit', b'nofile=128:64', b'x'),
        'rlimit-name': a(b'--rlimit', b'averyveryverylongname=1', b'x'),
        'env': a(b'--env', b'A=1', b'--clearenv', b'--env', b'=x', b'x'),
        'misc': a(b'-v', b'-v', b'--timeout', b'10', b'--json-status-fd', b'3', b'--chdir',
                  b'/', b'--audit', b'/tmp/a', b'--user', b'nobody', b'x'),
        'unshare': a(b'--unshare-all', b'--unshare-user', b'--landlock=require',
                     b'--trace-denied', b'--no-default-grants', b'x'),
        'bad-timeout': a(b'--timeout', b'0', b'x'),
        'help': a(b'-vh'),
        'version': a(b'--version'),
        'unknown': a(b'--frob', b'x'),
        'ambiguous': a(b'--un', b'x'),
        'missing': a(b'--ro'),
        'no-program': a(b'-v'),
        'short-unknown': a(b'-q'),
        'policy': a(b'--policy', b'/etc/p1', b'--policy', b'/etc/p2', b'--', b'-v'),
    }


def broker():
    hdr = lambda ty, i, payload, nfds=0: u16(1) + u16(nfds) + u32(ty) + u32(i) + \
        u32(len(payload)) + payload
    raw = lambda d, ctl=0: bytes([ctl]) + u16(len(d)) + d
    framed = lambda ty, i, payload, ctl=0: bytes([0x80 | ctl]) + \
        u16(8 + len(payload)) + u32(ty) + u32(i) + payload
    t = b'/tmp/sbx-fuzz-broker'
    op = lambda i, path, fl=0, mode=0: framed(1, i, open_payload(fl, mode, path))
    return {
        'open': op(1, t + b'/file') + op(2, t + b'/sub/f', O_RDWR) + op(3, t, O_DIRECTORY),
        'open-fallback': b'\x80\0\0' + op(1, t + b'/file') + op(2, t + b'/link/f') +
                         op(3, t + b'/escape/passwd') + op(4, t + b'/loop') +
                         op(5, t + b'/sub/../file') + op(6, t, O_DIRECTORY),
        'open-denied': op(1, b'/etc/passwd') + op(2, t + b'/escape/passwd') +
                       op(3, t + b'/loop') + op(4, t + b'/file', O_PATH) +
                       op(5, t + b'/link/f', O_NOFOLLOW) + op(6, b'relative'),
        'open-fifo': op(1, t + b'/fifo') + op(2, t + b'/fifo', O_WRONLY),
        'open-creat': op(1, t + b'/new', O_WRONLY | O_CREAT, 0o600) +
                      op(2, t + b'/file', O_WRONLY | O_TRUNC),
        'get': framed(2, 7, s(b'null')) + framed(2, 8, s(b'nope')),
        'connect': framed(3, 9, s(b'db')) + framed(3, 10, s(b'gone')) +
                   framed(3, 11, s(b'db')),
        'custom': b''.join(framed(0x10000, i, bytes([i])) for i in range(8)),
        'custom-fds': framed(0x10000, 1, b'\1', 2) + framed(0x10000, 2, b'\0x', 0x20 | 3) +
                      framed(0x10000, 3, b'\1', 5),
        'custom-plain': framed(0x10001, 1, b'hello') + framed(0x10001, 2, b'', 1),
        'unknown-type': framed(0x10002, 1, b'') + framed(4, 2, b''),
        'builtin-fd': framed(2, 1, s(b'null'), 1),
        'deaf': b'\x80\x01\x00\x02' + b''.join(framed(0x10000, i, b'\0' + b'x' * 1000)
                                               for i in range(12)),
        'deaf-fds': b'\x80\x01\x00\x02' + b''.join(framed(2, i, s(b'null')) for i in range(100)),
        'pileup': b''.join(framed(2, i, s(b'null'), 0x40) for i in range(40)),
        'pileup-open': b''.join(op(i, t + b'/file') for i in range(3)) +
                       b''.join(framed(1, i, open_payload(0, 0, t + b'/sub'), 0x40)
                                for i in range(30)),
        'raw-good': raw(hdr(2, 5, s(b'null'))),
        'raw-badver': raw(u16(2) + hdr(2, 5, s(b'null'))[2:]),
        'raw-badlen': raw(hdr(2, 5, s(b'null'))[:-1]),
        'raw-nfds': raw(hdr(0x10000, 5, b'\1', 2), 2),
        'raw-short': raw(b'\1\0\0\0'),
        'raw-empty': raw(b''),
        'big': framed(1, 1, open_payload(0, 0, b'/' + b'a' * 4300)),
        'bad-payload': framed(1, 1, b'\0' * 13) + framed(2, 2, u32(99)),
        'many-fds': framed(0x10000, 1, b'\1', 17),
    }


def main():
    write('request', request())
    write('policy-file', policy_file())
    write('cli', cli())
    write('broker', broker())
    return 0


if __name__ == '__main__':
    sys.exit(main())
