/*
 * thread_priority.h - the nice value of the threads that run the engine's
 * callbacks (nng's), so delivery runs below the broker (thread_priority.c).
 */
#ifndef SWIFTWEBHOOK_THREAD_PRIORITY_H
#define SWIFTWEBHOOK_THREAD_PRIORITY_H

/*
 * The engine sets the nice value `delivery_nice` asks for (0 when nng's
 * threads are shared with the host, whose threads are never changed);
 * every callback of the engine calls cthread_apply_delivery_nice() first,
 * which gives the thread running it that value once (a thread-local check
 * otherwise).
 */
void cthread_set_delivery_nice(int nice);
void cthread_apply_delivery_nice(void);

#endif
