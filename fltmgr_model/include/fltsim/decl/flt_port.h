/*
 * FltMgr: communication ports, through which a filter and a user-mode program
 * (FilterConnectCommunicationPort on the user side) exchange messages, and
 * the default security descriptor a port is created with.
 * Part of the WDK surface: include <fltKernel.h>, not this file.
 */
#ifndef FLTSIM_WDK_FLT_PORT_H
#define FLTSIM_WDK_FLT_PORT_H

#ifdef __cplusplus
extern "C" {
#endif

#define FLT_PORT_CONNECT 0x0001
#define FLT_PORT_ALL_ACCESS (FLT_PORT_CONNECT | STANDARD_RIGHTS_ALL)

typedef NTSTATUS(FLTAPI *PFLT_MESSAGE_NOTIFY)(PVOID PortCookie, PVOID InputBuffer,
                                              ULONG InputBufferLength, PVOID OutputBuffer,
                                              ULONG OutputBufferLength,
                                              PULONG ReturnOutputBufferLength);
typedef NTSTATUS(FLTAPI *PFLT_CONNECT_NOTIFY)(PFLT_PORT ClientPort, PVOID ServerPortCookie,
                                              PVOID ConnectionContext, ULONG SizeOfContext,
                                              PVOID *ConnectionPortCookie);
typedef VOID(FLTAPI *PFLT_DISCONNECT_NOTIFY)(PVOID ConnectionCookie);

NTSTATUS FltCreateCommunicationPort(PFLT_FILTER Filter, PFLT_PORT *ServerPort,
                                    POBJECT_ATTRIBUTES ObjectAttributes, PVOID ServerPortCookie,
                                    PFLT_CONNECT_NOTIFY ConnectNotifyCallback,
                                    PFLT_DISCONNECT_NOTIFY DisconnectNotifyCallback,
                                    PFLT_MESSAGE_NOTIFY MessageNotifyCallback, LONG MaxConnections);
VOID FltCloseCommunicationPort(PFLT_PORT ServerPort);
VOID FltCloseClientPort(PFLT_FILTER Filter, PFLT_PORT *ClientPort);
/* FltSendMessage: waits for the reply when ReplyBuffer is given; Timeout as
 * for KeWaitForSingleObject; STATUS_TIMEOUT when it expires. */
NTSTATUS FltSendMessage(PFLT_FILTER Filter, PFLT_PORT *ClientPort, PVOID SenderBuffer,
                        ULONG SenderBufferLength, PVOID ReplyBuffer, PULONG ReplyLength,
                        PLARGE_INTEGER Timeout);

NTSTATUS FltBuildDefaultSecurityDescriptor(PSECURITY_DESCRIPTOR *SecurityDescriptor,
                                           ACCESS_MASK DesiredAccess);
VOID FltFreeSecurityDescriptor(PSECURITY_DESCRIPTOR SecurityDescriptor);

#ifdef __cplusplus
}
#endif

#endif /* FLTSIM_WDK_FLT_PORT_H */
