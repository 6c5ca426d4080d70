# IUnknown of winbg's JS COM objects, x86-64: QueryInterface, AddRef and Release answered on the
# calling thread, never waiting for the JS thread. scripts/assemble.mjs turns this file into
# lib/ffi/unknown-code.ts (npm run assemble; CI checks that the two agree).
#
# The object layout (lib/com/object.ts writes it):
#   interface pointer = &pair; pair = { vtable, header }       (so header = [this + 8])
#   header +0  reference count (64-bit; 0 = released: AddRef and QI refuse, Release ignores)
#          +8  next: link in the list of released objects the JS thread frees
#          +16 table: { &list head, count, count * { IID (16 bytes), where (8 bytes) } }
#          +24, +32: the aggregated free-threaded marshaler (Windows), see `where` below
#   where >= 0: the interface pointer is header + where; where < 0: it is [header + ~where]
#   (the marshaler's IMarshal), and absent while that field is NULL.
# Rules followed (https://learn.microsoft.com/windows/win32/com/rules-for-implementing-queryinterface
# and IUnknown::QueryInterface's page): *ppv is NULL on every failure, E_POINTER for a NULL ppv
# or riid, E_NOINTERFACE for an unknown IID; a success AddRefs the object. The last Release
# pushes the header onto the list (a lock-free stack; the JS thread takes the whole list at once
# with `take`, so there is no ABA) and touches nothing after that.
#
# The body is written for the Win64 convention (this = rcx, riid = rdx, ppv = r8) with only the
# registers that both Win64 and System V treat as volatile (rax, rcx, rdx, r8-r11), so it is
# correct under both; the sysv_* entries move System V's arguments (rdi, rsi, rdx) into place.
# lock cmpxchg is a full barrier, which the release-to-zero and the list push need.
        .intel_syntax noprefix
        .text
        .globl sysv_qi, sysv_addref, sysv_release, sysv_take, qi, addref, release, take
        .globl slot0, slot1, slot2, sysv_slot0, sysv_slot1, sysv_slot2, identity, sysv_identity
sysv_qi:
        mov r8, rdx
        mov rdx, rsi
        mov rcx, rdi
        jmp qi
sysv_addref:
        mov rcx, rdi
        jmp addref
sysv_release:
        mov rcx, rdi
        jmp release
sysv_take:
        mov rcx, rdi
        jmp take

# HRESULT QueryInterface(this, REFIID riid, void **ppv)
qi:
        test r8, r8
        jz 8f                        # ppv NULL: E_POINTER
        mov qword ptr [r8], 0
        test rdx, rdx
        jz 8f                        # riid NULL: E_POINTER
        mov r9, [rcx+8]              # header
        mov r10, [rdx]               # the IID as two 64-bit halves
        mov r11, [rdx+8]
        mov rdx, [r9+16]             # table
        mov rcx, [rdx+8]             # entry count
        add rdx, 16                  # first entry
1:      test rcx, rcx
        jz 7f                        # no entry matched: E_NOINTERFACE
        cmp r10, [rdx]
        jne 2f
        cmp r11, [rdx+8]
        je 3f
2:      add rdx, 24
        dec rcx
        jmp 1b
3:      mov r10, [rdx+16]            # where
        test r10, r10
        js 4f
        add r10, r9                  # an interface of the object: header + where
        jmp 5f
4:      not r10                      # the marshaler's IMarshal: [header + ~where]
        mov r10, [r9+r10]
        test r10, r10
        jz 7f
5:      mov rax, [r9]                # AddRef unless already released
6:      test rax, rax
        jz 9f
        lea r11, [rax+1]
        lock cmpxchg [r9], r11
        jne 6b
        mov [r8], r10
        xor eax, eax                 # S_OK
        ret
7:      mov eax, 0x80004002          # E_NOINTERFACE
        ret
8:      mov eax, 0x80004003          # E_POINTER
        ret
9:      mov eax, 0x80000013          # RO_E_CLOSED: called after the last Release
        ret

# ULONG AddRef(this): the new count; 0 (and no change) once released.
addref:
        mov r9, [rcx+8]
        mov rax, [r9]
1:      test rax, rax
        jz 2f
        lea r10, [rax+1]
        lock cmpxchg [r9], r10
        jne 1b
        mov eax, r10d
        ret
2:      xor eax, eax
        ret

# ULONG Release(this): the new count; at zero the header goes onto the released list.
release:
        mov r9, [rcx+8]
        mov rax, [r9]
1:      test rax, rax
        jz 3f                        # already released: an extra Release is ignored
        lea r10, [rax-1]
        lock cmpxchg [r9], r10
        jne 1b
        test r10, r10
        jnz 4f
        mov r11, [r9+16]
        mov r11, [r11]               # &list head
        mov rax, [r11]
2:      mov [r9+8], rax              # header.next = head
        lock cmpxchg [r11], r9       # head = header, if head is still what we linked to
        jne 2b
3:      xor eax, eax
        ret
4:      mov eax, r10d
        ret

# void *take(void **head): the whole released list, leaving it empty.
take:
        xor eax, eax
        xchg [rcx], rax
        ret

# Calls through slot 0, 1 or 2 of any COM object's vtable, whatever the object: `this` is the
# first argument, the other arguments stay where the caller put them, and the slot's function
# returns to the caller. So JS can call any object's QueryInterface, AddRef or Release without
# reading its vtable first (one FFI call, where reading the vtable pointer and the slot would
# cost two more). Win64 passes `this` in rcx, System V in rdi; rax is volatile in both.
slot0:
        mov rax, [rcx]
        jmp qword ptr [rax]
slot1:
        mov rax, [rcx]
        jmp qword ptr [rax+8]
slot2:
        mov rax, [rcx]
        jmp qword ptr [rax+16]
sysv_slot0:
        mov rax, [rdi]
        jmp qword ptr [rax]
sysv_slot1:
        mov rax, [rdi]
        jmp qword ptr [rax+8]
sysv_slot2:
        mov rax, [rdi]
        jmp qword ptr [rax+16]

# int64 identity(this): the object's COM identity, the address of its IUnknown (QueryInterface for
# IID_IUnknown through slot 0; then Release, through slot 2 of the interface it returned, of the
# reference that added), valid while the caller holds a reference of its own. Returns the address,
# which is positive (user-mode addresses are below 2^47 on Windows x64 and Linux, 2^48 on arm64,
# and below 2^63 even where a process asks for more), or the failed HRESULT sign-extended, which
# is negative; a QueryInterface that succeeds with a
# NULL result gives E_POINTER, with nothing to release. One FFI call of one argument, returning a
# number to JS (koffi returns a 64-bit integer below 2^53 as a Number), where COM's identity took
# two calls and a bigint read from out-memory. IID_IUnknown, {00000000-0000-0000-C000-000000000046},
# and the out-pointer live in the frame: its 16 bytes as two 64-bit halves, 0 and
# 0x46000000000000c0 (bytes 8-15 are C0 00 00 00 00 00 00 46). Unlike the veneers above it calls
# twice, so each convention has its own frame, 16-byte aligned at each call, with Win64's 32
# bytes of shadow space. These are the only entries with a frame of their own, and the copy in
# executable memory registers no unwind data (RtlAddFunctionTable): a debugger's stack walk, or an
# SEH exception raised inside the object's QueryInterface or Release and unwound through here,
# cannot see past this frame. Only winbg's JS calls these entries, and koffi catches no SEH
# exception across a call either.
identity:
        sub rsp, 72                  # shadow space at 0, ppv at 32, the IID at 40
        xor eax, eax
        mov [rsp+32], rax
        mov [rsp+40], rax
        mov rax, 0x46000000000000c0
        mov [rsp+48], rax
        lea rdx, [rsp+40]
        lea r8, [rsp+32]
        mov rax, [rcx]
        call qword ptr [rax]         # QueryInterface(this, &IID_IUnknown, &ppv)
        test eax, eax
        js 1f
        mov rcx, [rsp+32]
        test rcx, rcx
        jz 2f                        # success with a NULL result: E_POINTER, nothing to release
        mov rax, [rcx]
        call qword ptr [rax+16]      # Release(ppv)
        mov rax, [rsp+32]
        add rsp, 72
        ret
1:      movsxd rax, eax              # the failed HRESULT, negative
        add rsp, 72
        ret
2:      mov rax, -2147467261         # E_POINTER (0x80004003), sign-extended
        add rsp, 72
        ret
sysv_identity:
        sub rsp, 24                  # ppv at 0, the IID at 8
        xor eax, eax
        mov [rsp], rax
        mov [rsp+8], rax
        mov rax, 0x46000000000000c0
        mov [rsp+16], rax
        lea rsi, [rsp+8]
        mov rdx, rsp
        mov rax, [rdi]
        call qword ptr [rax]         # QueryInterface(this, &IID_IUnknown, &ppv): this already in rdi
        test eax, eax
        js 1f
        mov rdi, [rsp]
        test rdi, rdi
        jz 2f
        mov rax, [rdi]
        call qword ptr [rax+16]      # Release(ppv)
        mov rax, [rsp]
        add rsp, 24
        ret
1:      movsxd rax, eax
        add rsp, 24
        ret
2:      mov rax, -2147467261
        add rsp, 24
        ret
