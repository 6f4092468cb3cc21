// The live figures of my centre(s): subscribe once, then every "supervisor.snapshot" replaces its
// centre's figures. Nothing polls. After a reconnect the server has forgotten the subscription, so
// it is renewed when the connection is live again (which also brings fresh snapshots).
import { onMounted, onUnmounted, ref, watch } from "vue";

import { translate } from "@/i18n";
import { realtime } from "@/realtime/socket";

import type { Snapshot, SubscribeAck } from "./api";
import { mergeSnapshot } from "./viewModel";

export function useSupervisorStream() {
  const snapshots = ref<Record<number, Snapshot>>({});
  const loading = ref(true);
  const error = ref<string | null>(null);

  function apply(snapshot: Snapshot): void {
    snapshots.value = { ...snapshots.value, [snapshot.centre_id]: mergeSnapshot(snapshots.value[snapshot.centre_id], snapshot) };
  }

  async function subscribe(): Promise<void> {
    if (realtime.state.value !== "live") return; // renewed by the watch below once live
    const ack = await realtime.request<SubscribeAck>("supervisor_subscribe", {});
    loading.value = false;
    if (!ack) {
      error.value = translate("errors.network");
      return;
    }
    if (!ack.ok) {
      error.value = ack.detail || translate("errors.codes.forbidden");
      return;
    }
    error.value = null;
    ack.snapshots?.forEach((snapshot) => {
      apply(snapshot);
      // The server joined us to the centre's room; holding it here lets a resume rejoin it and
      // leaving the page leave it (unless another screen still shows that department).
      if (!held.has(snapshot.centre_id)) held.set(snapshot.centre_id, realtime.join(`department:${snapshot.centre_id}`));
    });
  }

  const held = new Map<number, () => void>();
  const stops: Array<() => void> = [];
  onMounted(() => {
    stops.push(realtime.onMessage<Snapshot>("supervisor.snapshot", apply));
    stops.push(
      watch(
        () => realtime.state.value,
        (state) => {
          if (state === "live") void subscribe();
        },
        { immediate: true },
      ),
    );
  });
  onUnmounted(() => {
    stops.forEach((stop) => stop());
    held.forEach((leave) => leave());
  });

  return { snapshots, loading, error, retry: subscribe };
}
