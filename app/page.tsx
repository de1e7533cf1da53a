import { redirect } from 'next/navigation';

/** The console opens on the executive view (the login page when there is no session). */
export default function Home() {
  redirect('/executive');
}
