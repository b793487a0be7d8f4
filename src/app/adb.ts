import { AdbClient, adbServerPort } from "../adb/adb-client.js";

/** The adb server at `--adb-port`, else ANDROID_ADB_SERVER_PORT, else 5037 (as adb finds it). */
export function openAdb(port: number | undefined): AdbClient {
  return new AdbClient(adbServerPort(port));
}
