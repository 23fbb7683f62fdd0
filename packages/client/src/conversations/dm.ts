// A DM, as the official SDK's `Dm` (../shared/spec/xmtp-client.md 3.2 and
// section 7): a conversation between two inboxes, named in its immutable
// metadata. Two members may each have made one at the same time; every one
// of them is kept and stitched (dm-stitching.ts): a DM reads the messages of
// all of them.
import { groupExtensions } from "@parley/mls";
import { Conversation } from "./conversation.js";
import type { ConversationCore } from "./conversation-core.js";
import { decodeImmutableMetadata } from "./group-metadata.js";

export class Dm extends Conversation {
  readonly #duplicates: () => Dm[];

  /** @internal DMs are made by `client.conversations`. */
  constructor(core: ConversationCore, duplicates: () => Dm[]) {
    super(core);
    this.#duplicates = duplicates;
  }

  /** The other member's inbox id (from the immutable metadata). */
  get peerInboxId(): string {
    const dm = decodeImmutableMetadata(groupExtensions(this.core.state()).immutableMetadata).dmMembers;
    const ids = [dm?.dmMemberOne?.inboxId, dm?.dmMemberTwo?.inboxId];
    return ids.find((id) => id !== undefined && id !== this.core.ctx.inboxId) ?? "";
  }

  /** The other DMs with the same peer (libxmtp keeps every one of them). */
  duplicateDms(): Promise<Dm[]> {
    return Promise.resolve(this.#duplicates());
  }

  protected override messageGroupIds(): Uint8Array[] {
    return [this.core.localKey, ...this.#duplicates().map((d) => d.localKeyBytes)];
  }
}
