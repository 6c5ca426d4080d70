/*
 * User-marshal routines for HSTRING, which the proxy/stub code that widl generates from
 * inspectable.idl (IInspectable::GetRuntimeClassName) and from winbg's IDL (any HSTRING
 * parameter) calls by name. On Windows combase.dll exports them; Wine 8's combase does not, so
 * this DLL carries its own. Test tooling for the Wine tier only: winbg itself never loads this.
 *
 * The four routines follow the contract of [user_marshal] types ("The wire_marshal and
 * user_marshal attributes", https://learn.microsoft.com/windows/win32/rpc/the-wire-marshal-attribute,
 * and "user_marshal attribute" for the <type>_UserSize/_UserMarshal/_UserUnmarshal/_UserFree
 * signatures): Size returns the buffer offset after the value, given the offset before it;
 * Marshal and Unmarshal take and return the buffer position; Free releases what Unmarshal made.
 *
 * Wire format. Microsoft's own format (a wireBSTR-like FLAGGED_WORD_BLOB) is not needed: both
 * ends of a call load this same DLL, so the format only has to agree with itself. It is:
 *
 *     offset 0  padding to a 4-byte boundary (zero bytes)
 *     +0        UINT32 length: the string's length in UTF-16 code units, without a terminator
 *     +4        length UTF-16 code units, little-endian, no terminator
 *
 * A NULL HSTRING is the empty string in WinRT (https://learn.microsoft.com/windows/win32/winrt/hstring),
 * so NULL and "" are both sent as length 0 and both arrive as NULL, which every consumer of
 * HSTRING must treat as "".
 */
#include <string.h>
#include <windows.h>
#include <winstring.h>
#include <inspectable.h> /* declares the four HSTRING_User* prototypes */

/* The padding the format puts before the length. */
static ULONG_PTR align4(ULONG_PTR value)
{
    return (value + 3) & ~(ULONG_PTR)3;
}

ULONG __RPC_USER HSTRING_UserSize(ULONG *flags, ULONG start, HSTRING *string)
{
    UINT32 length = 0;
    (void)flags;
    /* WindowsGetStringRawBuffer accepts NULL and reports length 0 for it. */
    WindowsGetStringRawBuffer(*string, &length);
    return (ULONG)align4(start) + sizeof(UINT32) + length * sizeof(WCHAR);
}

unsigned char * __RPC_USER HSTRING_UserMarshal(ULONG *flags, unsigned char *buffer, HSTRING *string)
{
    UINT32 length = 0;
    const WCHAR *text = WindowsGetStringRawBuffer(*string, &length);
    (void)flags;
    while ((ULONG_PTR)buffer & 3) *buffer++ = 0;
    memcpy(buffer, &length, sizeof(length));
    buffer += sizeof(length);
    if (length > 0) memcpy(buffer, text, length * sizeof(WCHAR));
    return buffer + length * sizeof(WCHAR);
}

unsigned char * __RPC_USER HSTRING_UserUnmarshal(ULONG *flags, unsigned char *buffer, HSTRING *string)
{
    UINT32 length;
    HRESULT hr;
    (void)flags;
    buffer = (unsigned char *)align4((ULONG_PTR)buffer);
    memcpy(&length, buffer, sizeof(length));
    buffer += sizeof(length);
    /* The text is not necessarily WCHAR-aligned for the CPU's sake, but x64 does not care, and
       WindowsCreateString copies it. Length 0 gives NULL, the empty string. */
    hr = WindowsCreateString(length > 0 ? (const WCHAR *)buffer : NULL, length, string);
    if (FAILED(hr))
    {
        *string = NULL;
        /* Tell NDR the call failed rather than hand the callee a silently truncated value. */
        RpcRaiseException(hr);
    }
    return buffer + length * sizeof(WCHAR);
}

void __RPC_USER HSTRING_UserFree(ULONG *flags, HSTRING *string)
{
    (void)flags;
    WindowsDeleteString(*string); /* accepts NULL */
    *string = NULL;
}
