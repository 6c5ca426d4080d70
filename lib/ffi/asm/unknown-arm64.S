// IUnknown of winbg's JS COM objects, AArch64: the same functions and object layout as
// unknown-x64.S (read its header for both). AAPCS64 passes this, riid, ppv in x0, x1, x2 on
// Linux, macOS and Windows alike. Leaf functions using only x9-x16, except `identity`, which calls
// and has a frame of its own (x18, the platform register, is never touched). Exclusive
// loads/stores with acquire/release semantics (ldaxr/stlxr), so ARMv8.0 is enough; an exclusive
// pair holds no other memory access between its two halves (ARM ARM B2.9.5: such an access may
// make the store fail every time).
        .text
        .globl qi, addref, release, take, slot0, slot1, slot2, identity

// HRESULT QueryInterface(this, REFIID riid, void **ppv)
qi:
        cbz x2, 8f                   // ppv NULL: E_POINTER
        str xzr, [x2]
        cbz x1, 8f                   // riid NULL: E_POINTER
        ldr x9, [x0, #8]             // header
        ldr x10, [x1]                // the IID as two 64-bit halves
        ldr x11, [x1, #8]
        ldr x12, [x9, #16]           // table
        ldr x13, [x12, #8]           // entry count
        add x12, x12, #16            // first entry
1:      cbz x13, 7f                  // no entry matched: E_NOINTERFACE
        ldp x14, x15, [x12]
        cmp x14, x10
        ccmp x15, x11, #0, eq
        b.eq 3f
        add x12, x12, #24
        sub x13, x13, #1
        b 1b
3:      ldr x14, [x12, #16]          // where
        tbnz x14, #63, 4f
        add x14, x9, x14             // an interface of the object: header + where
        b 5f
4:      mvn x14, x14                 // the marshaler's IMarshal: [header + ~where]
        ldr x14, [x9, x14]
        cbz x14, 7f
5:      ldaxr x15, [x9]              // AddRef unless already released
        cbz x15, 9f
        add x15, x15, #1
        stlxr w16, x15, [x9]
        cbnz w16, 5b
        str x14, [x2]
        mov w0, #0                   // S_OK
        ret
7:      mov w0, #0x4002              // E_NOINTERFACE 0x80004002
        movk w0, #0x8000, lsl #16
        ret
8:      mov w0, #0x4003              // E_POINTER 0x80004003
        movk w0, #0x8000, lsl #16
        ret
9:      clrex
        mov w0, #0x0013              // RO_E_CLOSED 0x80000013: called after the last Release
        movk w0, #0x8000, lsl #16
        ret

// ULONG AddRef(this): the new count; 0 (and no change) once released.
addref:
        ldr x9, [x0, #8]
1:      ldaxr x10, [x9]
        cbz x10, 2f
        add x10, x10, #1
        stlxr w11, x10, [x9]
        cbnz w11, 1b
        mov w0, w10
        ret
2:      clrex
        mov w0, #0
        ret

// ULONG Release(this): the new count; at zero the header goes onto the released list.
release:
        ldr x9, [x0, #8]
1:      ldaxr x10, [x9]
        cbz x10, 5f                  // already released: an extra Release is ignored
        sub x10, x10, #1
        stlxr w11, x10, [x9]
        cbnz w11, 1b
        cbnz x10, 4f
        ldr x12, [x9, #16]
        ldr x12, [x12]               // &list head
2:      ldr x13, [x12]
        str x13, [x9, #8]            // header.next = head
3:      ldaxr x14, [x12]             // head = header, if head is still what we linked to
        cmp x14, x13
        b.ne 6f
        stlxr w11, x9, [x12]
        cbnz w11, 3b
        mov w0, #0
        ret
4:      mov w0, w10
        ret
5:      clrex
        mov w0, #0
        ret
6:      clrex
        b 2b

// void *take(void **head): the whole released list, leaving it empty.
take:
1:      ldaxr x1, [x0]
        stlxr w2, xzr, [x0]
        cbnz w2, 1b
        mov x0, x1
        ret

// Calls through slot 0, 1 or 2 of any COM object's vtable (see unknown-x64.S): `this` in x0, the
// other arguments untouched, the slot's function returning to our caller. x16 is the
// intra-procedure-call scratch register, free to use in a veneer like this one.
slot0:
        ldr x16, [x0]
        ldr x16, [x16]
        br x16
slot1:
        ldr x16, [x0]
        ldr x16, [x16, #8]
        br x16
slot2:
        ldr x16, [x0]
        ldr x16, [x16, #16]
        br x16

// int64 identity(this): the address of the object's IUnknown, or the failed HRESULT sign-extended
// (see unknown-x64.S, also for a NULL result and unwind data). A frame of its own: x29 and x30
// at sp, the out-pointer at sp+16, IID_IUnknown at sp+32 (two 64-bit halves: 0 and
// 0x46000000000000c0).
identity:
        stp x29, x30, [sp, #-48]!
        mov x29, sp
        str xzr, [sp, #16]
        str xzr, [sp, #32]
        movz x9, #0x00c0
        movk x9, #0x4600, lsl #48
        str x9, [sp, #40]
        add x1, sp, #32
        add x2, sp, #16
        ldr x16, [x0]
        ldr x16, [x16]
        blr x16                      // QueryInterface(this, &IID_IUnknown, &ppv)
        tbnz w0, #31, 1f             // failed: its HRESULT
        ldr x0, [sp, #16]
        cbz x0, 2f                   // success with a NULL result: E_POINTER
        ldr x16, [x0]
        ldr x16, [x16, #16]
        blr x16                      // Release(ppv)
        ldr x0, [sp, #16]
        ldp x29, x30, [sp], #48
        ret
1:      sxtw x0, w0                  // the failed HRESULT, negative
        ldp x29, x30, [sp], #48
        ret
2:      movz w0, #0x4003             // E_POINTER (0x80004003), sign-extended
        movk w0, #0x8000, lsl #16
        sxtw x0, w0
        ldp x29, x30, [sp], #48
        ret
