export interface MessageTree {
  [key: string]: string | MessageTree;
}
