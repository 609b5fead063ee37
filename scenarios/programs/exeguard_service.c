/*
 * ExeGuard's service: the user-mode half of the ExeGuard filter
 * (scenarios/filters/exeguard.c), written against windows.h and fltUser.h as
 * a Windows service would be. It connects to \ExeGuardPort, then loops on
 * FilterGetMessage: for each .exe being opened it replies allow when the
 * file's name (its last component, case-insensitive) is one of its arguments
 * and deny otherwise, printing each decision. Ctrl+C closes the port and
 * ends it with 0.
 *
 *   exeguard_service [--hang-on NAME] ALLOWED.exe ...
 *
 * --hang-on NAME takes the request for NAME and never replies, to model a
 * service that hangs or dies while the filter waits.
 */
#include <windows.h>

#include <fltUser.h>

#include "exeguard.h"

typedef struct _EXEGUARD_MESSAGE {
    FILTER_MESSAGE_HEADER Header;
    EXEGUARD_NOTIFICATION Notification;
} EXEGUARD_MESSAGE;

typedef struct _EXEGUARD_REPLY_MESSAGE {
    FILTER_REPLY_HEADER Header;
    EXEGUARD_REPLY Reply;
} EXEGUARD_REPLY_MESSAGE;

static HANDLE gPort;
static HANDLE gStopping; /* a manual-reset event, set by Ctrl+C */

/* Ctrl+C: closing the port ends the FilterGetMessage the main thread waits
 * in (ERROR_OPERATION_ABORTED). */
static BOOL WINAPI OnCtrl(DWORD CtrlType)
{
    if (CtrlType != CTRL_C_EVENT && CtrlType != CTRL_BREAK_EVENT)
        return FALSE;
    SetEvent(gStopping);
    printf("exeguard_service: stopping\n");
    CloseHandle(gPort);
    return TRUE;
}

/* TRUE when the last component of Name (Length bytes) is Wanted (ASCII,
 * case-insensitive). */
static BOOL NameIs(const WCHAR *Name, ULONG Length, const char *Wanted)
{
    ULONG Count = Length / sizeof(WCHAR), Start = Count;
    while (Start > 0 && Name[Start - 1] != L'\\')
        Start--;
    size_t WantedLength = strlen(Wanted);
    if (Count - Start != WantedLength)
        return FALSE;
    for (size_t i = 0; i < WantedLength; i++) {
        WCHAR c = Name[Start + i], w = (WCHAR)(unsigned char)Wanted[i];
        if (c >= L'A' && c <= L'Z')
            c = (WCHAR)(c - L'A' + L'a');
        if (w >= L'A' && w <= L'Z')
            w = (WCHAR)(w - L'A' + L'a');
        if (c != w)
            return FALSE;
    }
    return TRUE;
}

int main(int argc, char **argv)
{
    const char *HangOn = NULL;
    char **Allowed = calloc((size_t)argc + 1, sizeof(char *));
    int AllowedCount = 0;
    if (Allowed == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--hang-on") == 0) {
            if (i + 1 == argc) {
                printf("usage: %s [--hang-on NAME] ALLOWED.exe ...\n", argv[0]);
                free(Allowed);
                return ERROR_INVALID_PARAMETER;
            }
            HangOn = argv[++i];
        } else {
            Allowed[AllowedCount++] = argv[i];
        }
    }

    HRESULT hr = FilterConnectCommunicationPort(EXEGUARD_PORT_NAME, 0, NULL, 0, NULL, &gPort);
    if (FAILED(hr)) {
        printf("exeguard_service: cannot connect to %ws: 0x%08lx\n", EXEGUARD_PORT_NAME, (ULONG)hr);
        free(Allowed);
        return (int)HRESULT_CODE(hr);
    }
    gStopping = CreateEventW(NULL, TRUE, FALSE, NULL);
    SetConsoleCtrlHandler(OnCtrl, TRUE);
    printf("exeguard_service: connected; %d name(s) allowed\n", AllowedCount);

    EXEGUARD_MESSAGE *Message = malloc(sizeof(*Message));
    int ExitCode = 0;
    while (Message != NULL) {
        hr = FilterGetMessage(gPort, &Message->Header, sizeof(*Message), NULL);
        if (FAILED(hr)) {
            if (WaitForSingleObject(gStopping, 0) != WAIT_OBJECT_0) {
                printf("exeguard_service: FilterGetMessage: 0x%08lx\n", (ULONG)hr);
                ExitCode = (int)HRESULT_CODE(hr);
                CloseHandle(gPort);
            }
            break;
        }
        WCHAR Name[EXEGUARD_MAX_NAME + 1];
        ULONG Length =
            min(Message->Notification.NameLength, (ULONG)sizeof(Message->Notification.Name));
        memcpy(Name, Message->Notification.Name, Length);
        Name[Length / sizeof(WCHAR)] = L'\0';

        if (HangOn != NULL && NameIs(Name, Length, HangOn)) {
            printf("hanging on %ws (no reply)\n", Name);
            /* Never set: the request stays unanswered until the process
             * ends. */
            HANDLE Never = CreateEventW(NULL, TRUE, FALSE, NULL);
            WaitForSingleObject(Never, INFINITE);
            CloseHandle(Never);
            continue;
        }
        BOOL Allow = FALSE;
        for (int i = 0; i < AllowedCount && !Allow; i++)
            Allow = NameIs(Name, Length, Allowed[i]);
        printf("%s %ws (process %lu)\n", Allow ? "allow" : "deny", Name,
               Message->Notification.ProcessId);

        EXEGUARD_REPLY_MESSAGE Reply;
        memset(&Reply, 0, sizeof(Reply));
        Reply.Header.Status = 0;
        Reply.Header.MessageId = Message->Header.MessageId;
        Reply.Reply.Allow = Allow;
        hr = FilterReplyMessage(gPort, &Reply.Header,
                                sizeof(FILTER_REPLY_HEADER) + sizeof(EXEGUARD_REPLY));
        if (FAILED(hr))
            printf("exeguard_service: FilterReplyMessage: 0x%08lx\n", (ULONG)hr);
    }
    free(Message);
    free(Allowed);
    CloseHandle(gStopping);
    printf("exeguard_service: exiting with %d\n", ExitCode);
    return ExitCode;
}
